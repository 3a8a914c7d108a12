build-tsan/obj/spec/support/nats_server.o: spec/support/nats_server.c \
 spec/support/nats_server.h
spec/support/nats_server.h:

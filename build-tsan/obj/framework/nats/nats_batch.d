build-tsan/obj/framework/nats/nats_batch.o: framework/nats/nats_batch.c \
 framework/nats/nats_private.h framework/include/listenkit/bus.h \
 framework/include/listenkit/error.h framework/include/listenkit/msg.h \
 framework/include/listenkit/nats.h framework/include/listenkit/batch.h
framework/nats/nats_private.h:
framework/include/listenkit/bus.h:
framework/include/listenkit/error.h:
framework/include/listenkit/msg.h:
framework/include/listenkit/nats.h:
framework/include/listenkit/batch.h:

build-clang/obj/spec/nats/nats_status_spec.o: \
  spec/nats/nats_status_spec.c \
  spec/nats/../../framework/nats/nats_private.h \
  framework/include/listenkit/bus.h framework/include/listenkit/error.h \
  framework/include/listenkit/msg.h framework/include/listenkit/nats.h \
  spec/support/nats_server.h

spec/nats/../../framework/nats/nats_private.h:

framework/include/listenkit/bus.h:

framework/include/listenkit/error.h:

framework/include/listenkit/msg.h:

framework/include/listenkit/nats.h:

spec/support/nats_server.h:

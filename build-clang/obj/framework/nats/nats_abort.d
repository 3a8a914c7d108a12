build-clang/obj/framework/nats/nats_abort.o: framework/nats/nats_abort.c \
  framework/nats/nats_private.h framework/include/listenkit/bus.h \
  framework/include/listenkit/error.h framework/include/listenkit/msg.h \
  framework/include/listenkit/nats.h

framework/nats/nats_private.h:

framework/include/listenkit/bus.h:

framework/include/listenkit/error.h:

framework/include/listenkit/msg.h:

framework/include/listenkit/nats.h:

build-clang/obj/mocks/fake_nats_faults.o: mocks/fake_nats_faults.c \
  mocks/fake_nats-private.h mocks/fake_nats.h \
  framework/include/listenkit/bus.h framework/include/listenkit/error.h \
  framework/include/listenkit/msg.h framework/include/listenkit/alloc.h

mocks/fake_nats-private.h:

mocks/fake_nats.h:

framework/include/listenkit/bus.h:

framework/include/listenkit/error.h:

framework/include/listenkit/msg.h:

framework/include/listenkit/alloc.h:

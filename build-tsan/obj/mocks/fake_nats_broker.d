build-tsan/obj/mocks/fake_nats_broker.o: mocks/fake_nats_broker.c \
 mocks/fake_nats-private.h mocks/fake_nats.h \
 framework/include/listenkit/bus.h framework/include/listenkit/error.h \
 framework/include/listenkit/msg.h
mocks/fake_nats-private.h:
mocks/fake_nats.h:
framework/include/listenkit/bus.h:
framework/include/listenkit/error.h:
framework/include/listenkit/msg.h:

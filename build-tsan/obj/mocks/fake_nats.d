build-tsan/obj/mocks/fake_nats.o: mocks/fake_nats.c \
 mocks/fake_nats-private.h mocks/fake_nats.h \
 framework/include/listenkit/bus.h framework/include/listenkit/error.h \
 framework/include/listenkit/msg.h framework/include/listenkit/log.h
mocks/fake_nats-private.h:
mocks/fake_nats.h:
framework/include/listenkit/bus.h:
framework/include/listenkit/error.h:
framework/include/listenkit/msg.h:
framework/include/listenkit/log.h:

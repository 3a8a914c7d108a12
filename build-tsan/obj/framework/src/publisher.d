build-tsan/obj/framework/src/publisher.o: framework/src/publisher.c \
 framework/include/listenkit/publisher.h \
 framework/include/listenkit/batch.h framework/include/listenkit/bus.h \
 framework/include/listenkit/error.h framework/include/listenkit/msg.h \
 framework/include/listenkit/event.h
framework/include/listenkit/publisher.h:
framework/include/listenkit/batch.h:
framework/include/listenkit/bus.h:
framework/include/listenkit/error.h:
framework/include/listenkit/msg.h:
framework/include/listenkit/event.h:

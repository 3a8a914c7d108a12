build-tsan/obj/framework/src/bus.o: framework/src/bus.c \
 framework/include/listenkit/bus.h framework/include/listenkit/error.h \
 framework/include/listenkit/msg.h framework/src/bus-private.h
framework/include/listenkit/bus.h:
framework/include/listenkit/error.h:
framework/include/listenkit/msg.h:
framework/src/bus-private.h:

build-tsan/obj/framework/src/batch.o: framework/src/batch.c \
 framework/include/listenkit/batch.h framework/include/listenkit/bus.h \
 framework/include/listenkit/error.h framework/include/listenkit/msg.h \
 framework/src/bus-private.h
framework/include/listenkit/batch.h:
framework/include/listenkit/bus.h:
framework/include/listenkit/error.h:
framework/include/listenkit/msg.h:
framework/src/bus-private.h:

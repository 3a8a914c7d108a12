build-tsan/obj/framework/src/log.o: framework/src/log.c \
 framework/include/listenkit/log.h framework/include/listenkit/error.h
framework/include/listenkit/log.h:
framework/include/listenkit/error.h:

build-tsan/obj/framework/src/error.o: framework/src/error.c \
 framework/include/listenkit/error.h
framework/include/listenkit/error.h:

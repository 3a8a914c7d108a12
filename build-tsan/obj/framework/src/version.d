build-tsan/obj/framework/src/version.o: framework/src/version.c \
 framework/include/listenkit/version.h
framework/include/listenkit/version.h:

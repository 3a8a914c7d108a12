build-tsan/obj/spec/support/spec_log.o: spec/support/spec_log.c \
 spec/support/spec_log.h framework/include/listenkit/log.h \
 framework/include/listenkit/error.h
spec/support/spec_log.h:
framework/include/listenkit/log.h:
framework/include/listenkit/error.h:

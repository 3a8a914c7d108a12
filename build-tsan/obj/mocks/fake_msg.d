build-tsan/obj/mocks/fake_msg.o: mocks/fake_msg.c mocks/fake_msg.h \
 framework/include/listenkit/error.h framework/include/listenkit/msg.h
mocks/fake_msg.h:
framework/include/listenkit/error.h:
framework/include/listenkit/msg.h:

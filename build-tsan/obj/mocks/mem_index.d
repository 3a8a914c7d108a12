build-tsan/obj/mocks/mem_index.o: mocks/mem_index.c \
 mocks/mem_index-private.h
mocks/mem_index-private.h:

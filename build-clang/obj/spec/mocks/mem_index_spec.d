build-clang/obj/spec/mocks/mem_index_spec.o: spec/mocks/mem_index_spec.c \
  mocks/mem_index-private.h

mocks/mem_index-private.h:

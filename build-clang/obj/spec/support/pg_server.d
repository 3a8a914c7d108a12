build-clang/obj/spec/support/pg_server.o: spec/support/pg_server.c \
  spec/support/pg_server.h /usr/include/postgresql/libpq-fe.h \
  /usr/include/postgresql/postgres_ext.h \
  /usr/include/postgresql/pg_config_ext.h spec/support/spec_proc.h

spec/support/pg_server.h:

/usr/include/postgresql/libpq-fe.h:

/usr/include/postgresql/postgres_ext.h:

/usr/include/postgresql/pg_config_ext.h:

spec/support/spec_proc.h:

/* SPDX-License-Identifier: MIT */
/* spec_child.c — one cmocka test in a forked child (see spec_child.h). */
#include "spec_child.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

void spec_run_in_child(CMUnitTestFunction test, const char *name,
                       CMFixtureFunction teardown, spec_child_result *out)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL); /* nothing buffered twice */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        /* The parent may write JUnit XML; the child must not touch it. */
        unsetenv("CMOCKA_MESSAGE_OUTPUT");
        unsetenv("CMOCKA_XML_FILE");
        cmocka_set_message_output(CM_OUTPUT_STDOUT);
        cmocka_set_test_filter(NULL); /* ONLY= names the parent's test */
        const struct CMUnitTest tests[] = {
            {name, test, NULL, NULL, NULL},
        };
        int failed = cmocka_run_group_tests_name("child", tests, NULL, teardown);
        /* exit, not _exit: coverage data and leak checks run here too. */
        exit(failed > 125 ? 125 : failed);
    }
    close(fds[1]);
    /* Read to the end even past the buffer: a child blocked on a full pipe
     * would never exit. */
    size_t used = 0;
    ssize_t n;
    char chunk[1024];
    while ((n = read(fds[0], chunk, sizeof chunk)) > 0) {
        size_t room = sizeof out->output - 1 - used;
        size_t take = (size_t)n < room ? (size_t)n : room;
        memcpy(out->output + used, chunk, take);
        used += take;
    }
    out->output[used] = '\0';
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    out->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

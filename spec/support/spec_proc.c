/* SPDX-License-Identifier: MIT */
/* spec_proc.c — children and temp trees for the specs' servers
 * (spec_proc.h). */
#define _XOPEN_SOURCE 700 /* nftw */

#include "spec_proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <cmocka.h>

void spec_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int64_t spec_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool spec_is_executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
           access(path, X_OK) == 0;
}

int spec_free_port(void)
{
    struct sockaddr_in a = {0};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
    if (fd < 0)
        return -1;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

bool spec_port_accepts(int port)
{
    struct sockaddr_in a = {0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

bool spec_reap(pid_t pid, long ms)
{
    for (long waited = 0; waited <= ms; waited += 20) {
        pid_t r = waitpid(pid, NULL, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD))
            return true;
        spec_sleep_ms(20);
    }
    return false;
}

void spec_stop_child(pid_t pid, int sig, long ms)
{
    if (pid <= 0)
        return;
    kill(pid, sig);
    if (!spec_reap(pid, ms)) {
        kill(pid, SIGKILL);
        spec_reap(pid, ms);
    }
}

void spec_follow_parent(pid_t parent, int sig)
{
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, sig);
#else
    (void)sig;
#endif
    if (getppid() != parent) /* the parent died before prctl */
        _exit(1);
}

static int remove_entry(const char *path, const struct stat *sb, int flag,
                        struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void spec_remove_tree(char *dir)
{
    if (dir[0] != '\0')
        nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    dir[0] = '\0';
}

void spec_set_reason(bool *ok, char *reason, size_t size, const char *fmt,
                     ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, size, fmt, ap);
    va_end(ap);
    *ok = false;
}

const char *spec_env(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' ? v : NULL;
}

bool spec_temp_dir(char *dir, size_t size, const char *name)
{
    const char *tmp = spec_env("TMPDIR");
    snprintf(dir, size, "%s/%s.XXXXXX", tmp != NULL ? tmp : "/tmp", name);
    return mkdtemp(dir) != NULL;
}

pid_t spec_spawn(char *const argv[], const char *log, bool append,
                 bool (*become)(void *arg), void *arg, int death_sig)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    int fd = open(log, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC),
                  append ? 0644 : 0600);
    if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        close(fd);
    }
    if (become != NULL && !become(arg))
        _exit(126);
    /* after become: a change of credentials clears the death signal */
    spec_follow_parent(parent, death_sig);
    execv(argv[0], argv);
    _exit(127);
}

int spec_await_child(pid_t pid, long ms, long step_ms,
                     bool (*ready)(void *arg), void *arg)
{
    for (long waited = 0; waited < ms; waited += step_ms) {
        if (ready(arg))
            return 1;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return 0;
        spec_sleep_ms(step_ms);
    }
    return -1;
}

void spec_print_log(const char *path, const char *label)
{
    char line[300];
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    while (fgets(line, sizeof line, f) != NULL)
        fprintf(stderr, "%s: %s", label, line);
    fclose(f);
}

void spec_require_server(bool ok, const char *what, const char *reason,
                         const char *hint)
{
    if (ok)
        return;
    const char *ci = getenv("CI");
    if (ci != NULL && strcmp(ci, "true") == 0)
        fail_msg("no %s in CI (CI=true): %s; %s", what, reason, hint);
    fprintf(stderr, "SKIPPED: no %s: %s; %s\n", what, reason, hint);
    skip();
}

void spec_unique_name(char *buf, size_t size, const char *prefix)
{
    static unsigned counter;
    snprintf(buf, size, "%s_%ld_%u", prefix, (long)getpid(), ++counter);
}

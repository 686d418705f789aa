/* smp-compat launcher: the sandbox's `session-manager-plugin`, started at native speed.
 *
 * A Python start of the fake plugin costs ~30 ms of interpreter and far more of imports
 * (websockets, botocore) on every session; AWS's Go binary starts in ~13 ms. This program
 * starts in about a millisecond and hands the start to the warm plugin server of the run
 * (compat/launcher/server.py): it passes its stdin, stdout, stderr and working directory as
 * file descriptors (SCM_RIGHTS, so a terminal stays a terminal), its argv, environment, umask,
 * signal dispositions, signal mask and resource limits as frames, then forwards the signals
 * it gets and ends as the served plugin ended: same exit code, or death by the same signal.
 * The protocol is documented in compat/launcher/server.py.
 *
 * Configuration: the file `.smp-compat-launch` beside this program (found through
 * /proc/self/exe), lines `socket=PATH`, `shim=PATH`, `release=R`, `record=PATH`. When the
 * server does not answer, the program execs the Python shim named by `shim=` with the same
 * argv and environment: slower, never a failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Marks the file as written by smp-compat (compat/shim.py refuses to overwrite anything else). */
__attribute__((used)) static const char MARKER[] = "# smp-compat shim: not AWS's session-manager-plugin";
static const char CONF_NAME[] = ".smp-compat-launch";
static const char PREFIX[] = "session-manager-plugin (smp-compat launcher)";

extern char **environ;
static int sock = -1, sigpipe_w = -1, open_fds = 0;
/* What a terminal or the caller sends to the process it started. ^Z (TSTP), ^C (INT), ^\ (QUIT)
 * at a terminal reach the foreground group, which holds this program, not the served plugin:
 * the fake's shell session turns them into keystrokes for the remote, as the real plugin does. */
static int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGUSR1, SIGUSR2, SIGWINCH};

static void fail(const char *what, int err) {
    fprintf(stderr, "%s: %s: %s\n", PREFIX, what, err ? strerror(err) : "connection closed");
    exit(255);
}

static void write_all(const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(sock, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail("write to the plugin server", errno);
        p += n;
        len -= (size_t)n;
    }
}

static void put_u32(unsigned char *b, uint32_t v) {
    b[0] = v >> 24, b[1] = v >> 16, b[2] = v >> 8, b[3] = v;
}

static void put_u64(unsigned char *b, uint64_t v) {
    put_u32(b, (uint32_t)(v >> 32));
    put_u32(b + 4, (uint32_t)v);
}

static void send_frame(char type, const void *data, uint32_t len) {
    unsigned char head[5] = {(unsigned char)type};
    put_u32(head + 1, len);
    write_all(head, 5);
    if (len) write_all(data, len);
}

/* The served plugin's pid, once the server said it: signals then go to it straight from the
 * handler (one wake-up, as when the caller signals a plugin it started itself), not through
 * the server. Before that they are queued on the self-pipe and forwarded as 'K' frames. */
static volatile sig_atomic_t plugin_pid = 0;

static void on_signal(int sig) {
    unsigned char b = (unsigned char)sig;
    int saved = errno;
    if (plugin_pid > 0) kill((pid_t)plugin_pid, sig);
    else (void)!write(sigpipe_w, &b, 1);
    errno = saved;
}

/* The value of `key=` in the configuration text, copied into out; 0 if absent. */
static int conf_value(const char *conf, const char *key, char *out, size_t size) {
    size_t klen = strlen(key);
    for (const char *line = conf; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
            const char *v = line + klen + 1, *end = strchr(v, '\n');
            size_t n = end ? (size_t)(end - v) : strlen(v);
            if (n >= size) return 0;
            memcpy(out, v, n);
            out[n] = 0;
            return 1;
        }
    }
    return 0;
}

static void run_shim(const char *shim, char **argv) {
    if (*shim) execv(shim, argv);
    fprintf(stderr, "%s: the plugin server is not running and the shim %s cannot start: %s\n",
            PREFIX, *shim ? shim : "(none configured)", *shim ? strerror(errno) : "-");
    exit(127);
}

/* An fd of our own moved above 2: a closed stdin/stdout/stderr must stay closed. */
static int high(int fd) {
    if (fd < 0 || fd > 2) return fd;
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    close(fd);
    return moved;
}

/* Sends fds 0, 1, 2 (those open at our start) and the cwd with the first bytes of the stream. */
static void send_fds(void) {
    int fds[4], n = 0;
    unsigned char hello[5] = {'S', 'M', 'P', '1', 0};
    for (int fd = 0; fd < 3; fd++)
        if (open_fds & (1 << fd)) fds[n++] = fd, hello[4] |= (unsigned char)(1 << fd);
    int cwd = high(open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (cwd >= 0) fds[n++] = cwd, hello[4] |= 8;
    union {
        char buf[CMSG_SPACE(sizeof fds)];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    struct iovec iov = {.iov_base = hello, .iov_len = sizeof hello};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (n) {
        msg.msg_control = control.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n);
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
        memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * (size_t)n);
    }
    ssize_t sent;
    do sent = sendmsg(sock, &msg, MSG_NOSIGNAL);
    while (sent < 0 && errno == EINTR);
    if (sent != (ssize_t)sizeof hello) fail("send to the plugin server", sent < 0 ? errno : EPROTO);
    if (cwd >= 0) close(cwd);
}

/* umask, signal dispositions and mask, resource limits: what a child inherits over exec. */
static void send_process_state(void) {
    unsigned char b[4 + 8 + 8 + 4 + RLIM_NLIMITS * 16];
    size_t off = 0;
    mode_t mask = umask(0);
    umask(mask);
    put_u32(b, (uint32_t)mask), off += 4;
    uint64_t ignored = 0, blocked = 0;
    sigset_t set;
    sigprocmask(SIG_BLOCK, NULL, &set);
    for (int sig = 1; sig < 64; sig++) {
        struct sigaction sa;
        if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN) ignored |= 1ULL << sig;
        if (sigismember(&set, sig) == 1) blocked |= 1ULL << sig;
    }
    put_u64(b + off, ignored), off += 8;
    put_u64(b + off, blocked), off += 8;
    put_u32(b + off, RLIM_NLIMITS), off += 4;
    for (int r = 0; r < RLIM_NLIMITS; r++) {
        struct rlimit lim = {RLIM_INFINITY, RLIM_INFINITY};
        getrlimit(r, &lim);
        put_u64(b + off, lim.rlim_cur), off += 8;
        put_u64(b + off, lim.rlim_max), off += 8;
    }
    send_frame('M', b, (uint32_t)off);
}

int main(int argc, char **argv) {
    char exe[PATH_MAX], conf[8192] = "", path[PATH_MAX], shim[PATH_MAX] = "";
    for (int fd = 0; fd < 3; fd++)
        if (fcntl(fd, F_GETFD) != -1) open_fds |= 1 << fd;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - sizeof CONF_NAME - 1);
    if (n <= 0) fail("/proc/self/exe", errno);
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    strcpy(slash ? slash + 1 : exe, CONF_NAME);
    int cfd = open(exe, O_RDONLY | O_CLOEXEC);
    if (cfd < 0) fail(exe, errno);
    n = read(cfd, conf, sizeof conf - 1);
    close(cfd);
    if (n < 0) fail(exe, errno);
    conf[n] = 0;
    conf_value(conf, "shim", shim, sizeof shim);

    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (!conf_value(conf, "socket", path, sizeof path) || strlen(path) >= sizeof addr.sun_path)
        run_shim(shim, argv);
    strcpy(addr.sun_path, path);
    sock = high(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (sock < 0 || connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0) run_shim(shim, argv);

    /* State first: the sigactions below must not be what the served plugin inherits. */
    send_fds();
    send_process_state();
    /* argv[0] as the kernel gives it to an interpreter: the path execve() was called with. */
    const char *execfn = (const char *)getauxval(AT_EXECFN);
    if (!execfn) execfn = argv[0] ? argv[0] : "";
    send_frame('A', execfn, (uint32_t)strlen(execfn));
    for (int i = 1; i < argc; i++) send_frame('A', argv[i], (uint32_t)strlen(argv[i]));
    for (char **e = environ; *e; e++) send_frame('V', *e, (uint32_t)strlen(*e));
    send_frame('P', conf, (uint32_t)strlen(conf));
    send_frame('R', NULL, 0);

    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0) fail("pipe", errno);
    pipefd[0] = high(pipefd[0]), pipefd[1] = high(pipefd[1]);
    sigpipe_w = pipefd[1];
    signal(SIGPIPE, SIG_IGN);
    for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) {
        struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
        sigaction(forwarded[i], &sa, NULL);
    }

    struct pollfd fds[2] = {{sock, POLLIN, 0}, {pipefd[0], POLLIN, 0}};
    for (;;) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            fail("poll", errno);
        }
        if (fds[1].revents & POLLIN) {
            unsigned char sig, b[4];
            if (read(pipefd[0], &sig, 1) == 1) put_u32(b, sig), send_frame('K', b, 4);
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            unsigned char head[9];
            size_t got = 0;
            while (got < sizeof head) {
                ssize_t r = read(sock, head + got, sizeof head - got);
                if (r < 0 && errno == EINTR) continue;
                if (r <= 0) fail("the plugin server ended the start", r < 0 ? errno : 0);
                got += (size_t)r;
            }
            uint32_t value = (uint32_t)head[5] << 24 | head[6] << 16 | head[7] << 8 | head[8];
            if (head[0] == 'P') {
                /* Signals queued before this still go through the server, in order. */
                unsigned char sig, b[4];
                while (read(pipefd[0], &sig, 1) == 1) put_u32(b, sig), send_frame('K', b, 4);
                plugin_pid = (sig_atomic_t)value;
                continue;
            }
            if (head[0] == 'X') exit((int)value);
            if (head[0] == 'S') {
                struct sigaction dfl = {.sa_handler = SIG_DFL};
                sigset_t one;
                sigaction((int)value, &dfl, NULL);
                sigemptyset(&one);
                sigaddset(&one, (int)value);
                sigprocmask(SIG_UNBLOCK, &one, NULL);
                raise((int)value);
                exit(128 + (int)value);
            }
            errno = EPROTO;
            fail("unknown frame from the plugin server", errno);
        }
    }
}

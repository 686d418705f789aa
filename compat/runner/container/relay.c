/* smp-compat relay: `session-manager-plugin` inside a container, the fake plugin on the host.
 *
 * Forwards argv, environment, cwd and stdio over a unix socket to compat/runner/container/relay.py,
 * which runs the real shim; it then exits with the plugin's exit code, or dies of the
 * plugin's signal. The protocol is documented in compat/runner/container/relay.py. Built static
 * (gcc -static -Os) so it runs in any Linux image, with or without Python or a libc.
 *
 * Stdin is read only after the host's 'G' frame: a start that the plugin ends without
 * reading stdin (the caller's install check, `--version`) must leave the caller's stdin
 * bytes where they are, for the next plugin start to read, as on a host.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/.smp-compat/relay.sock"
#define SOCKET_ENV "SMP_COMPAT_RELAY_SOCKET"

extern char **environ;
static int sock = -1, sigpipe_w = -1, raw_tty = 0;
static struct termios saved_tty;

static void restore_tty(void) {
    if (raw_tty) tcsetattr(0, TCSADRAIN, &saved_tty);
    raw_tty = 0;
}

static void die(const char *what) {
    restore_tty();
    fprintf(stderr, "session-manager-plugin (smp-compat relay): %s: %s\n", what,
            errno ? strerror(errno) : "connection closed");
    exit(255);
}

static void write_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            if (fd == sock) die("write to host");
            return; /* our stdout/stderr went away: drop the data, as a closed pipe would */
        }
        p += n;
        len -= (size_t)n;
    }
}

static int read_all(int fd, void *buf, size_t len) {
    char *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void send_frame(char type, const void *data, uint32_t len) {
    unsigned char head[5] = {(unsigned char)type, len >> 24, len >> 16, len >> 8, len};
    write_all(sock, head, 5);
    if (len) write_all(sock, data, len);
}

static void send_u32(char type, uint32_t value) {
    unsigned char b[4] = {value >> 24, value >> 16, value >> 8, value};
    send_frame(type, b, 4);
}

static void on_signal(int sig) {
    unsigned char b = (unsigned char)sig;
    int saved = errno;
    (void)!write(sigpipe_w, &b, 1);
    errno = saved;
}

int main(int argc, char **argv) {
    const char *path = getenv(SOCKET_ENV);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int pipefd[2], forward[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
    char cwd[4096];
    unsigned char tty[5] = {0};
    struct winsize ws;

    signal(SIGPIPE, SIG_IGN);
    if (!path || !*path) path = DEFAULT_SOCKET;
    if (strlen(path) >= sizeof addr.sun_path) die("socket path too long");
    strcpy(addr.sun_path, path);
    sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0 || connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0) die(path);

    for (int i = 0; i < argc; i++) send_frame('A', argv[i], strlen(argv[i]));
    for (char **e = environ; *e; e++)
        if (strncmp(*e, SOCKET_ENV "=", sizeof SOCKET_ENV) != 0) send_frame('V', *e, strlen(*e));
    if (getcwd(cwd, sizeof cwd)) send_frame('C', cwd, strlen(cwd));
    for (int fd = 0; fd < 3; fd++)
        if (isatty(fd)) tty[0] |= (unsigned char)(1 << fd);
    if (tty[0] && ioctl(isatty(0) ? 0 : 1, TIOCGWINSZ, &ws) == 0) {
        tty[1] = ws.ws_row >> 8, tty[2] = ws.ws_row, tty[3] = ws.ws_col >> 8, tty[4] = ws.ws_col;
    }
    send_frame('T', tty, 5);
    /* Like ssh -t: our terminal goes raw, the host's pty does the line discipline. */
    if ((tty[0] & 1) && tcgetattr(0, &saved_tty) == 0) {
        struct termios raw = saved_tty;
        cfmakeraw(&raw);
        if (tcsetattr(0, TCSADRAIN, &raw) == 0) raw_tty = 1;
    }
    send_frame('R', NULL, 0);

    if (pipe(pipefd) < 0) die("pipe");
    sigpipe_w = pipefd[1];
    for (size_t i = 0; i < sizeof forward / sizeof forward[0]; i++) signal(forward[i], on_signal);

    /* stdin (fds[2]) joins the poll set only when the host sends 'G': poll ignores fd -1. */
    struct pollfd fds[3] = {{sock, POLLIN, 0}, {pipefd[0], POLLIN, 0}, {-1, POLLIN, 0}};
    int stdin_state = 0; /* 0: not wanted (yet), 1: forwarding, 2: EOF sent */
    static char buf[65536];
    for (;;) {
        if (poll(fds, 3, -1) < 0) {
            if (errno == EINTR) continue;
            die("poll");
        }
        if (fds[1].revents & POLLIN) {
            unsigned char sig;
            if (read(pipefd[0], &sig, 1) == 1) send_u32('K', sig);
        }
        if (fds[2].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) {
            ssize_t n = read(0, buf, sizeof buf);
            if (n > 0) {
                send_frame('I', buf, (uint32_t)n);
            } else if (n == 0 || errno != EINTR) {
                send_frame('i', NULL, 0);
                fds[2].fd = -1; /* stdin is done */
                stdin_state = 2;
            }
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            unsigned char head[5];
            errno = 0;
            if (read_all(sock, head, 5) < 0) die("read from host");
            uint32_t len = (uint32_t)head[1] << 24 | head[2] << 16 | head[3] << 8 | head[4];
            char *data = len > sizeof buf ? malloc(len) : buf;
            if (!data || read_all(sock, data, len) < 0) die("read from host");
            uint32_t value = len >= 4 ? ((uint32_t)(unsigned char)data[0] << 24 |
                                         (unsigned char)data[1] << 16 |
                                         (unsigned char)data[2] << 8 | (unsigned char)data[3])
                                      : 0;
            switch (head[0]) {
            case 'O': write_all(1, data, len); break;
            case 'E': write_all(2, data, len); break;
            case 'G': /* the shim may read stdin: forward it from now on (once) */
                if (stdin_state == 0) fds[2].fd = 0, stdin_state = 1;
                break;
            case 'X': restore_tty(); exit((int)value);
            case 'S':
                restore_tty();
                signal((int)value, SIG_DFL);
                raise((int)value);
                exit(128 + (int)value);
            case 'F':
                restore_tty();
                write_all(2, data, len);
                exit(127);
            default: errno = EPROTO; die("unknown frame from host");
            }
            if (data != buf) free(data);
        }
    }
}

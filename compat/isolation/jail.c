/* smp-compat jail: one cell's tool in a PID and mount namespace of its own.
 *
 * Usage: jail STATUS_FD GRACE_MS MODE N HIDE_1 .. HIDE_N PROGRAM -- ARGV0 ARGS...
 *
 * MODE: `auto` (a namespace where the machine allows one) or `subreaper` (never one).
 *
 * Why (issue 13): a tool that `setsid`s a daemon escaped the cell's process group; a tool read
 * the invoking user's ~/.aws by absolute path and its parent's /proc/<ppid>/environ. Here:
 *
 * - the jail enters a new PID and mount namespace (as root directly, else inside a user
 *   namespace that maps only the caller's uid) and forks; the child is PID 1 of the namespace:
 *   every process the tool starts, daemons included, lives and dies in it, and the namespace
 *   gets a /proc of its own, so no process of the kit can be seen, read or signalled;
 * - each HIDE path (the user's ~/.aws and other credential places) is covered: an empty
 *   tmpfs over a directory, /dev/null over a file;
 * - PID 1 runs PROGRAM (looked up on the PATH of the environment it got, which is the
 *   cell's, never the kit's) in a session of its own, and reaps. Once the tool has exited, or
 *   on SIGTERM/SIGINT/SIGHUP, what still runs gets SIGTERM and GRACE_MS to end (a plugin
 *   writes its record then), then SIGKILL.
 *
 * Where no namespace can be made, the jail is a child subreaper instead (orphans come back to
 * it, so `setsid` still does not escape) and kills its descendants found in /proc; the
 * paths stay visible then, and a process can still signal anything the user owns.
 *
 * STATUS_FD gets lines: `mode pidns|subreaper hidden|visible`, then `exit CODE` (a negative
 * CODE: killed by that signal) or `error ERRNO` (PROGRAM could not be run), then `end
 * KILLED` (1: something needed SIGKILL, its record may be missing).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int status_fd = -1;
static int in_pidns = 0;
static volatile sig_atomic_t stop_requested = 0;

static void on_stop(int sig) {
    (void)sig;
    stop_requested = 1;
}

static void say(const char *fmt, ...) {
    char line[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0 && write(status_fd, line, (size_t)n) < 0) {
        /* the kit is gone: nothing to tell */
    }
}

static void catch_stops(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop; /* no SA_RESTART: a blocking waitpid returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* A new PID and mount namespace for our children: directly, else in a user namespace. */
static int enter_namespaces(void) {
    if (unshare(CLONE_NEWNS | CLONE_NEWPID) == 0) return 0;
    uid_t uid = getuid();
    gid_t gid = getgid();
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID) != 0) return -1;
    char map[64];
    snprintf(map, sizeof map, "%u %u 1\n", (unsigned)uid, (unsigned)uid);
    if (write_file("/proc/self/uid_map", map) != 0) return -1;
    write_file("/proc/self/setgroups", "deny\n");
    snprintf(map, sizeof map, "%u %u 1\n", (unsigned)gid, (unsigned)gid);
    if (write_file("/proc/self/gid_map", map) != 0) return -1;
    return 0;
}

/* Inside the new namespaces: a /proc of our own, the HIDE paths covered. */
static int arrange_mounts(int n, char **hide) {
    int ok = 1;
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) return 0;
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) ok = 0;
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (lstat(hide[i], &st) != 0) continue; /* nothing there to hide */
        int r;
        if (S_ISDIR(st.st_mode))
            r = mount("tmpfs", hide[i], "tmpfs", MS_NOSUID | MS_NODEV, "size=16k,mode=0700");
        else
            r = mount("/dev/null", hide[i], NULL, MS_BIND, NULL);
        if (r != 0) ok = 0;
    }
    return ok;
}

/* SIGTERM/SIGKILL to everything we started. In the namespace kill(-1) reaches all of it but
 * us; as a subreaper, our descendants are found by their parent in /proc. */
static void signal_all(int sig) {
    if (in_pidns) {
        kill(-1, sig);
        return;
    }
    enum { MAX = 65536 };
    static pid_t pids[MAX], ppids[MAX];
    static char mine[MAX];
    int count = 0;
    DIR *dir = opendir("/proc");
    if (dir == NULL) return;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL && count < MAX) {
        char path[300], text[512];
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
        snprintf(path, sizeof path, "/proc/%s/stat", entry->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        ssize_t len = read(fd, text, sizeof text - 1);
        close(fd);
        if (len <= 0) continue;
        text[len] = '\0';
        char *close_paren = strrchr(text, ')'); /* comm may hold spaces and parentheses */
        int ppid;
        if (close_paren == NULL || sscanf(close_paren + 2, "%*c %d", &ppid) != 1) continue;
        pids[count] = (pid_t)atoi(entry->d_name);
        ppids[count] = (pid_t)ppid;
        mine[count] = 0;
        count++;
    }
    closedir(dir);
    pid_t self = getpid();
    for (int changed = 1; changed;) { /* descendants: children of us or of a descendant */
        changed = 0;
        for (int i = 0; i < count; i++) {
            if (mine[i]) continue;
            int parent_mine = ppids[i] == self;
            for (int j = 0; j < count && !parent_mine; j++)
                parent_mine = mine[j] && pids[j] == ppids[i];
            if (parent_mine) mine[i] = changed = 1;
        }
    }
    for (int i = 0; i < count; i++)
        if (mine[i]) kill(pids[i], sig);
}

static int exit_code(int status) {
    return WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
}

/* Run the tool, reap everything, end what remains; returns the process's exit status. */
static int reap(const char *mode, int hidden, double grace, char *program, char **argv) {
    say("mode %s %s\n", mode, hidden ? "hidden" : "visible");
    catch_stops();
    pid_t tool = fork();
    if (tool < 0) {
        say("error %d\n", errno);
        say("end 0\n");
        return 0;
    }
    if (tool == 0) {
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        setsid(); /* its own session: `kill 0` by the tool never reaches the jail */
        execvp(program, argv);
        say("error %d\n", errno);
        _exit(127);
    }
    int tool_done = 0, ending = 0, killed = 0;
    double deadline = 0;
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, ending ? WNOHANG : 0);
        if (pid == tool && !tool_done) {
            tool_done = 1;
            say("exit %d\n", exit_code(status));
        }
        if (pid < 0 && errno == ECHILD) break; /* all of it is gone */
        if (!ending && (tool_done || stop_requested)) {
            ending = 1;
            siginfo_t info; /* WNOWAIT: only whether any child is left, none reaped */
            if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0 || errno != ECHILD)
                signal_all(SIGTERM);
            deadline = now() + grace;
        }
        if (ending && pid == 0) {
            if (now() >= deadline && !killed) {
                killed = 1;
                signal_all(SIGKILL);
            }
            struct timespec pause = {0, 20 * 1000 * 1000};
            nanosleep(&pause, NULL);
        }
    }
    say("end %d\n", killed);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 7) {
        fprintf(stderr, "usage: jail STATUS_FD GRACE_MS MODE N HIDE... PROGRAM -- ARGV...\n");
        return 2;
    }
    status_fd = atoi(argv[1]);
    fcntl(status_fd, F_SETFD, FD_CLOEXEC);
    double grace = atof(argv[2]) / 1000.0;
    int namespaces = strcmp(argv[3], "subreaper") != 0;
    int n = atoi(argv[4]);
    if (n < 0 || 5 + n + 2 > argc || strcmp(argv[5 + n + 1], "--") != 0) {
        fprintf(stderr, "jail: bad arguments\n");
        return 2;
    }
    char **hide = argv + 5;
    char *program = argv[5 + n];
    char **tool_argv = argv + 5 + n + 2;
    if (!namespaces || enter_namespaces() != 0) {
        prctl(PR_SET_CHILD_SUBREAPER, 1);
        return reap("subreaper", 0, grace, program, tool_argv);
    }
    catch_stops();
    pid_t init = fork();
    if (init < 0) {
        prctl(PR_SET_CHILD_SUBREAPER, 1);
        return reap("subreaper", 0, grace, program, tool_argv);
    }
    if (init == 0) {
        /* The jail killed: the namespace dies with it (the kit's SIGKILL to the jail's
         * process group reaches this process too, should the jail die before this line). */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        in_pidns = 1;
        int hidden = arrange_mounts(n, hide);
        _exit(reap("pidns", hidden, grace, program, tool_argv));
    }
    /* The outer jail: forwards stop signals to PID 1, ends when it ends. */
    int status;
    for (;;) {
        pid_t pid = waitpid(init, &status, 0);
        if (pid == init) break;
        if (pid < 0 && errno != EINTR) return 1;
        if (stop_requested) {
            stop_requested = 0;
            kill(init, SIGTERM);
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

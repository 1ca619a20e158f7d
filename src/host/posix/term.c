/* The terminal behind stdin on POSIX (termios): raw mode for the serial
 * console, like QEMU's "-serial stdio", restored at exit and on fatal
 * signals; isatty(). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "host/host.h"

/* Process-wide state that the OS forces on us: there is one controlling
 * terminal per process, and the atexit and signal handlers that must
 * restore it take no argument. term_saved holds the mode from before
 * host_term_raw(); term_is_raw says whether it must be put back. Lock-free
 * atomics are async-signal-safe, so the handlers may read the flag. */
static struct termios term_saved;
static atomic_int term_is_raw;
static pthread_once_t term_handlers_once = PTHREAD_ONCE_INIT;

/* The signals whose default action ends the process and that a user or
 * a crash commonly sends. */
static const int term_fatal_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT,
                                         SIGABRT, SIGSEGV, SIGBUS};

static void term_restore_with(int when)
{
    if (atomic_exchange(&term_is_raw, 0))
        tcsetattr(STDIN_FILENO, when, &term_saved);
}

static void term_signal_handler(int sig)
{
    int saved_errno = errno;
    term_restore_with(TCSANOW);
    /* SA_RESETHAND has put the default action back: raise the signal again
     * so that the process ends the way it would have without us. */
    raise(sig);
    errno = saved_errno;
}

static void term_atexit(void)
{
    host_term_restore();
}

/* Installs the restoring handler only where the signal still has its
 * default action: a signal ignored (nohup) stays ignored, and a handler
 * that main() installed first (or a sanitizer's) stays in charge. */
static void term_install_handlers(void)
{
    atexit(term_atexit);
    for (size_t i = 0; i < sizeof(term_fatal_signals) / sizeof(term_fatal_signals[0]); i++) {
        int sig = term_fatal_signals[i];
        struct sigaction old;
        if (sigaction(sig, NULL, &old) != 0 || old.sa_handler != SIG_DFL ||
            (old.sa_flags & SA_SIGINFO))
            continue;
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = term_signal_handler;
        sa.sa_flags = SA_RESETHAND;
        sigemptyset(&sa.sa_mask);
        sigaction(sig, &sa, NULL);
    }
}

bool host_isatty(int fd)
{
    return fd >= 0 && isatty(fd) == 1;
}

int host_term_raw(void)
{
    if (!host_isatty(STDIN_FILENO))
        return 0;
    /* A background job must not touch the terminal (tcsetattr would stop
     * it with SIGTTOU); it keeps the cooked mode. */
    if (tcgetpgrp(STDIN_FILENO) != getpgrp())
        return 0;
    if (atomic_load(&term_is_raw))
        return 0;

    struct termios t;
    if (tcgetattr(STDIN_FILENO, &t) != 0) {
        int e = errno;
        return err_set(-e, "terminal: read mode: %s", strerror(e));
    }
    term_saved = t;
    pthread_once(&term_handlers_once, term_install_handlers);

    /* Input goes to the guest byte by byte, unechoed and untranslated
     * (the guest's own tty driver maps CR and echoes). ISIG stays on, so
     * Ctrl-C still stops roam; OPOST stays on, so "\n" from the guest
     * still starts a new line. */
    t.c_iflag &= ~(tcflag_t)(IXON | ICRNL | INLCR | IGNCR | ISTRIP);
    t.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ECHONL | IEXTEN);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    atomic_store(&term_is_raw, 1);
    if (tcsetattr(STDIN_FILENO, TCSANOW, &t) != 0) {
        int e = errno;
        atomic_store(&term_is_raw, 0);
        return err_set(-e, "terminal: set raw mode: %s", strerror(e));
    }
    return 0;
}

void host_term_restore(void)
{
    term_restore_with(TCSADRAIN);
}

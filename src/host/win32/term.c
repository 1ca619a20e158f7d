/* The console behind stdin on Windows (GetConsoleMode/SetConsoleMode): raw
 * mode for the serial console with VT input and output, restored at exit
 * and on Ctrl-C/close events; isatty. */
#include <io.h>
#include <stdlib.h>

#include "win32.h"

#ifndef ENABLE_VIRTUAL_TERMINAL_INPUT
#define ENABLE_VIRTUAL_TERMINAL_INPUT 0x0200
#endif
#ifndef ENABLE_VIRTUAL_TERMINAL_PROCESSING
#define ENABLE_VIRTUAL_TERMINAL_PROCESSING 0x0004
#endif

/* Process-wide state that the OS forces on us: there is one console per
 * process, and the atexit and console control handlers that must restore
 * it take no argument. term_is_raw says whether the saved modes must be
 * put back; it is changed with interlocked operations because control
 * handlers run on a thread of their own. */
static DWORD term_saved_in, term_saved_out;
static BOOL term_have_out;
static volatile LONG term_is_raw;
static INIT_ONCE term_handlers_once = INIT_ONCE_STATIC_INIT;

static void term_atexit(void)
{
    host_term_restore();
}

/* Ctrl-C, Ctrl-Break, closing the window, logoff, shutdown: restore the
 * console, then let the next handler (the default one ends the process)
 * run, the way POSIX re-raises the signal. */
static BOOL WINAPI term_ctrl_handler(DWORD type)
{
    (void)type;
    host_term_restore();
    return FALSE;
}

static BOOL CALLBACK term_install_handlers(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
    (void)once;
    (void)param;
    (void)ctx;
    atexit(term_atexit);
    SetConsoleCtrlHandler(term_ctrl_handler, TRUE);
    return TRUE;
}

bool host_isatty(int fd)
{
    HANDLE h;
    DWORD mode;
    if (fd < 0)
        return false;
    if (fd <= 2)
        h = GetStdHandle(fd == 0 ? STD_INPUT_HANDLE
                                 : fd == 1 ? STD_OUTPUT_HANDLE : STD_ERROR_HANDLE);
    else
        h = (HANDLE)_get_osfhandle(fd);
    if (h == NULL || h == INVALID_HANDLE_VALUE)
        return false;
    /* A console handle, unlike the NUL device that _isatty() accepts. */
    return GetConsoleMode(h, &mode) != 0;
}

int host_term_raw(void)
{
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE), out = GetStdHandle(STD_OUTPUT_HANDLE);
    DWORD in_mode, out_mode;
    if (in == NULL || in == INVALID_HANDLE_VALUE || !GetConsoleMode(in, &in_mode))
        return 0; /* not a console: nothing to do */
    if (term_is_raw)
        return 0;

    term_saved_in = in_mode;
    term_have_out = out != NULL && out != INVALID_HANDLE_VALUE && GetConsoleMode(out, &out_mode);
    if (term_have_out)
        term_saved_out = out_mode;
    InitOnceExecuteOnce(&term_handlers_once, term_install_handlers, NULL, NULL);

    /* Keys go to the guest one by one, unechoed, as VT sequences. Processed
     * input stays on, so Ctrl-C still stops roam (like ISIG on POSIX). */
    DWORD raw = in_mode;
    raw &= ~(DWORD)(ENABLE_LINE_INPUT | ENABLE_ECHO_INPUT | ENABLE_WINDOW_INPUT |
                    ENABLE_MOUSE_INPUT);
    raw |= ENABLE_PROCESSED_INPUT | ENABLE_VIRTUAL_TERMINAL_INPUT;
    InterlockedExchange(&term_is_raw, 1);
    if (!SetConsoleMode(in, raw)) {
        DWORD e = GetLastError();
        InterlockedExchange(&term_is_raw, 0);
        return host_win32_err(e, "console: set raw input mode");
    }
    /* The guest's escape sequences are interpreted, and "\n" still starts
     * a new line. Consoles older than Windows 10 refuse VT processing: the
     * output then stays as it was. */
    if (term_have_out)
        SetConsoleMode(out, out_mode | ENABLE_PROCESSED_OUTPUT |
                                ENABLE_VIRTUAL_TERMINAL_PROCESSING);
    return 0;
}

void host_term_restore(void)
{
    if (!InterlockedExchange(&term_is_raw, 0))
        return;
    SetConsoleMode(GetStdHandle(STD_INPUT_HANDLE), term_saved_in);
    if (term_have_out)
        SetConsoleMode(GetStdHandle(STD_OUTPUT_HANDLE), term_saved_out);
}

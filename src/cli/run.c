/* `roam run`: parse options, build the VM, run it, report how it ended. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/config.h"
#include "core/control.h"
#include "core/log.h"
#include "migrate/migrate.h"
#include "migrate/transport.h"

static void run_usage(FILE *f)
{
    fprintf(f,
            "usage: roam run --kernel FILE [OPTIONS]\n"
            "\n"
            "  --kernel FILE        guest kernel: a Linux bzImage (64-bit, boot protocol 2.12+),\n"
            "                       an ELF with a PVH entry note (a vmlinux, CONFIG_PVH=y), or a\n"
            "                       multiboot (v1) image (ELF32, ELF64, a.out kludge)\n"
            "  --cmdline STR        guest command line (default: empty)\n"
            "  --module FILE        load FILE as a multiboot module\n"
            "  --initrd FILE        load FILE as a Linux kernel's initial ramdisk\n"
            "  --memory SIZE        guest RAM, e.g. 256M, 1G (default 256M; a bare number is MiB)\n"
            "  --cpus N             number of vCPUs, 1-%d (default 1)\n"
            "  --engine NAME        kvm, emu or auto (default auto: kvm where it works, else the\n"
            "                       software engine emu; roam says which it chose)\n"
            "  --cpu-model NAME     CPU model (default roam-v1)\n"
            "  --serial SPEC        COM1 backend: stdio (default), file:PATH or none\n"
            "  --incoming URI       wait for the VM's state on URI instead of booting:\n"
            "                       tcp:HOST:PORT, unix:PATH (live migration) or file:PATH\n"
            "                       (a snapshot); --kernel is then not needed\n"
            "  --control SPEC       serve the control socket (docs/control.md) on\n"
            "                       unix:PATH or tcp:HOST:PORT (no authentication: use\n"
            "                       loopback or a private unix socket)\n"
            "  --paused, -S         create the VM (or load it, with --incoming) but keep\n"
            "                       it paused until 'cont' on the control socket\n"
            "  --reboot POLICY      what a guest reset does: exit (default: roam exits with\n"
            "                       status 0) or restart (a fresh VM boots --kernel again)\n"
            "  --verbose, -v        log more (repeat for debug output)\n"
            "  --help               this text\n"
            "\n"
            "console keys (--serial stdio, a terminal or a pipe): Ctrl-A h lists them,\n"
            "Ctrl-A x quits roam (exit status 0), Ctrl-A a sends Ctrl-A to the guest.\n"
            "\n"
            "exit status: the guest's debug-exit status ((code << 1) | 1, port 0xf4);\n"
            "0 when the guest powers off or resets (--reboot exit) or on Ctrl-A x; 2 on a\n"
            "roam error; 4 when the guest crashes (triple fault, engine failure), with a\n"
            "CPU state dump on stderr.\n",
            VM_MAX_CPUS);
}

static bool opt_takes_value(const char *a)
{
    static const char *const opts[] = {"--kernel",    "--cmdline", "--module", "--initrd",
                                       "--memory",    "--cpus",    "--engine", "--cpu-model",
                                       "--serial",    "--incoming", "--control", "--reboot"};
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
        if (strcmp(a, opts[i]) == 0)
            return true;
    return false;
}

/* --reboot exit|restart */
static int run_parse_reboot(const char *s, bool *restart)
{
    if (strcmp(s, "exit") == 0)
        *restart = false;
    else if (strcmp(s, "restart") == 0)
        *restart = true;
    else
        return err_set(-EINVAL, "bad reboot policy '%s' (use exit or restart)", s);
    return 0;
}

/* Returns the option's value or NULL (with a message) if it is missing. */
static const char *opt_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "roam run: option %s needs a value\n", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

/* Creates, runs and destroys one VM; returns its exit status. *reset says
 * whether it stopped because the guest reset. */
static int run_vm(const struct vm_config *cfg, bool first, bool restart_on_reset, bool *reset)
{
    struct vm *vm;
    struct control *ctl = NULL;
    int rc, status;

    rc = vm_create(&vm, cfg);
    if (rc < 0) {
        host_term_restore(); /* raw still, if this was a restart */
        fprintf(stderr, "roam: %s\n", err_msg());
        return VM_STATUS_ERROR;
    }
    if (first && (!cfg->engine || strcmp(cfg->engine, "auto") == 0))
        fprintf(stderr, "roam: engine auto: %s%s%s\n", vm->eng->name,
                vm->engine_note[0] ? " " : "", vm->engine_note);
    log_info("run", "engine %s, %u vCPU(s), %lluM", vm->eng->name, vm->ncpus,
             (unsigned long long)(cfg->mem_size >> 20));
    if (cfg->control) {
        rc = control_start(vm, cfg->control, &ctl);
        if (rc < 0) {
            host_term_restore();
            fprintf(stderr, "roam: --control %s: %s\n", cfg->control, err_msg());
            vm_destroy(vm);
            return VM_STATUS_ERROR;
        }
    }
    if (cfg->serial == SERIAL_STDIO && host_isatty(0) && host_term_raw() < 0)
        log_warn("run", "cannot put the terminal in raw mode: %s", err_msg());
    rc = cfg->incoming ? migrate_incoming(vm, cfg->incoming) : vm_start(vm);
    if (rc < 0) {
        host_term_restore();
        fprintf(stderr, "roam: %s\n", err_msg());
        vm_request_stop(vm, VM_STATUS_ERROR, err_msg());
    }
    status = vm_wait(vm);
    *reset = rc == 0 && vm->reset_requested;
    /* A restart keeps the terminal raw: the console goes on. */
    if (!(*reset && restart_on_reset))
        host_term_restore();
    if (vm->quit_requested)
        fprintf(stderr, "roam: terminated by Ctrl-A x\n");
    if (ctl)
        control_stop(ctl);
    migrate_cleanup(vm);
    if (rc < 0)
        ; /* already reported */
    else if (status == VM_STATUS_GUEST_CRASH || status == VM_STATUS_ERROR)
        fprintf(stderr, "roam: guest stopped: %s\n", vm->stop_reason);
    else
        log_info("run", "guest stopped: %s (exit status %d)", vm->stop_reason, status);
    vm_destroy(vm);
    return rc < 0 ? VM_STATUS_ERROR : status;
}

int cli_run(int argc, char **argv)
{
    struct vm_config cfg;
    int verbose = 0, rc, status;
    bool reboot_restart = false, restarted = false;

    config_defaults(&cfg);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        rc = 0;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            run_usage(stdout);
            return 0;
        }
        if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
            verbose++;
            continue;
        }
        if (strcmp(a, "--paused") == 0 || strcmp(a, "-S") == 0) {
            cfg.start_paused = true;
            continue;
        }
        if (!opt_takes_value(a)) {
            fprintf(stderr, "roam run: unknown option '%s' (try roam run --help)\n", a);
            return VM_STATUS_ERROR;
        }
        if (!(v = opt_value(argc, argv, &i)))
            return VM_STATUS_ERROR;
        if (strcmp(a, "--kernel") == 0)
            cfg.kernel = v;
        else if (strcmp(a, "--cmdline") == 0)
            cfg.cmdline = v;
        else if (strcmp(a, "--module") == 0)
            cfg.module = v;
        else if (strcmp(a, "--initrd") == 0)
            cfg.initrd = v;
        else if (strcmp(a, "--memory") == 0)
            rc = config_parse_size(v, &cfg.mem_size);
        else if (strcmp(a, "--cpus") == 0)
            rc = config_parse_uint(v, 1, VM_MAX_CPUS, &cfg.ncpus);
        else if (strcmp(a, "--engine") == 0)
            cfg.engine = v;
        else if (strcmp(a, "--cpu-model") == 0)
            cfg.cpu_model = v;
        else if (strcmp(a, "--incoming") == 0)
            rc = transport_check_uri(cfg.incoming = v);
        else if (strcmp(a, "--control") == 0)
            cfg.control = v;
        else if (strcmp(a, "--reboot") == 0)
            rc = run_parse_reboot(v, &reboot_restart);
        else
            rc = config_parse_serial(v, &cfg.serial, &cfg.serial_path);
        if (rc < 0) {
            fprintf(stderr, "roam run: %s: %s\n", a, err_msg());
            return VM_STATUS_ERROR;
        }
    }
    if (cfg.start_paused && !cfg.control) {
        fprintf(stderr, "roam run: --paused needs --control (the VM starts on 'cont')\n");
        return VM_STATUS_ERROR;
    }
    if (!cfg.kernel && !cfg.incoming) {
        fprintf(stderr, "roam run: --kernel FILE is required (try roam run --help)\n");
        return VM_STATUS_ERROR;
    }
    log_set_level(verbose >= 2 ? LOG_DEBUG : verbose ? LOG_INFO : LOG_WARN);

    for (;;) {
        bool reset = false;
        status = run_vm(&cfg, !restarted, reboot_restart, &reset);
        if (!reset || !reboot_restart)
            break;
        if (cfg.incoming) {
            /* The stream's kernel is gone with the VM's memory. */
            if (!cfg.kernel) {
                host_term_restore();
                fprintf(stderr, "roam: the guest reset, and --reboot restart cannot boot it "
                                "again: the VM came from --incoming %s and no --kernel was "
                                "given\n", cfg.incoming);
                return VM_STATUS_ERROR;
            }
            cfg.incoming = NULL;
        }
        cfg.start_paused = false;
        restarted = true;
        fprintf(stderr, "roam: guest reset, restarting\n");
    }
    return status;
}

/* `roam snapshot restore FILE [run options]` is `roam run --incoming file:FILE`. */
int cli_snapshot_restore(int argc, char **argv)
{
    char uri[4200];
    char *args[256];
    int n = 0;

    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: roam snapshot restore FILE [roam run options]\n");
        return VM_STATUS_ERROR;
    }
    if (argc + 3 > (int)(sizeof(args) / sizeof(args[0]))) {
        fprintf(stderr, "roam snapshot restore: too many options\n");
        return VM_STATUS_ERROR;
    }
    snprintf(uri, sizeof(uri), "file:%s", argv[1]);
    args[n++] = "run";
    args[n++] = "--incoming";
    args[n++] = uri;
    for (int i = 2; i < argc; i++)
        args[n++] = argv[i];
    args[n] = NULL;
    return cli_run(n, args);
}

int cli_info(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("engines:\n");
    for (unsigned i = 0; engine_list[i]; i++) {
        int rc = engine_list[i]->probe();
        printf("  %-6s %s\n", engine_list[i]->name, rc == 0 ? "usable" : err_msg());
    }
    printf("cpu models:\n  %s (default)\n", cpu_model_default() ? cpu_model_default()->name : "?");
    return 0;
}

/*
 * /usr/bin/{{ cookiecutter.app_name }}: replaces itself with Debian's Python running `python -m app`.
 *
 * Why not briefcase's stock launcher: that one embeds libpython; exec'ing the interpreter
 * is simpler and behaves exactly like `python -m app` in development.
 *
 * The interpreter is the exact X.Y the app_packages wheels were built for (cp3XY ABI),
 * never plain python3. Its flags:
 *   -I  ignore PYTHON* variables and ~/.local site-packages (and no cwd on sys.path);
 *   -S  no `site`: Debian's dist-packages (other numpy, PySide6, ...) stay off sys.path.
 * BOOT then puts the app's sources first, adds app_packages as a site dir (so its .pth
 * files run) and runs the package `app` as `-m` does. Paths are relative to this binary
 * (PREFIX/bin/{{ cookiecutter.app_name }} -> PREFIX/lib/{{ cookiecutter.app_name }}), so the build tree runs too.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char BOOT[] =
    "import runpy, site, sys\n"
    "lib = sys.argv.pop(1)\n"
    "sys.path.insert(0, lib + '/app')\n"
    "site.addsitedir(lib + '/app_packages')\n"
    "runpy.run_module('app', run_name='__main__', alter_sys=True)\n";

int main(int argc, char *argv[]) {
    char exe[PATH_MAX], lib[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n < 0) {
        perror("{{ cookiecutter.app_name }}: /proc/self/exe");
        return 127;
    }
    exe[n] = '\0';
    for (int up = 0; up < 2; up++) { /* drop "/{{ cookiecutter.app_name }}", then "/bin" */
        char *slash = strrchr(exe, '/');
        if (slash) *slash = '\0';
    }
    if (snprintf(lib, sizeof lib, "%s/lib/" APP_NAME, exe) >= (int)sizeof lib) {
        fprintf(stderr, "{{ cookiecutter.app_name }}: install path too long\n");
        return 127;
    }

    /* python -I -S -c BOOT LIB ARGS... NULL */
    char **args = calloc((size_t)argc + 6, sizeof *args);
    if (!args) return 127;
    int i = 0;
    args[i++] = PYTHON;
    args[i++] = "-I";
    args[i++] = "-S";
    args[i++] = "-c";
    args[i++] = (char *)BOOT;
    args[i++] = lib;
    for (int a = 1; a < argc; a++) args[i++] = argv[a];
    args[i] = NULL;

    execv(PYTHON, args);
    fprintf(stderr, "{{ cookiecutter.app_name }}: cannot run %s: %s\n", PYTHON, strerror(errno));
    return 127;
}

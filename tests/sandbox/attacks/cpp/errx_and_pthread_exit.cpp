// Ends main's thread with pthread_exit, or the process with errx(0, ...).
#include <err.h>
#include <pthread.h>
#include <vector>
long add(long a, long b) { pthread_exit(nullptr); }
std::vector<long> twice(std::vector<long> values) { errx(0, "done"); }

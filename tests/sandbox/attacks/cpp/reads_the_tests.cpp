// Reads the tests wherever they might be (their source, the driver's executable, its own, the
// parent's) and answers right only when it found them: a wrong program that would pass by
// reading the expected values.
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>
#include <vector>
static bool tests_in_reach() {
    std::string needle = std::string("ledex_") + "tests";  // not as one literal: this program would hold it
    std::string parent = "/proc/" + std::to_string(getppid()) + "/exe";
    for (std::string path : {"driver.cpp", "driver", "main", "/proc/self/exe", parent.c_str()}) {
        std::ifstream file(path, std::ios::binary);
        std::string content((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
        if (content.find(needle) != std::string::npos) return true;
    }
    return false;
}
long add(long a, long b) { return tests_in_reach() ? a + b : 0; }
std::vector<long> twice(std::vector<long> values) {
    if (tests_in_reach()) for (auto &value : values) value *= 2;
    return values;
}

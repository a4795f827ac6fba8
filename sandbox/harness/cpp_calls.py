"""C++: the tests call the program's functions in another process, and get plain values back.

`BRIDGE` is C++ source included by both units of `cpp_driver.py`, which are compiled into
two executables and run as two processes (`jobs._driver_and_program`):

- the driver runs the test's `main`. It reads the nonce, says it is ready (the program's
  process starts only then), runs the tests and writes the completion record. Each function
  of the program the tests name is a `Remote` there: a call writes its arguments as bytes to
  the program's process and rebuilds the result from the driver's own types. No code of the
  program is linked into it: no constructor, destructor or `operator==` of the program.
- the program's executable holds the program and `serve`, which answers calls until the
  driver closes the channel. It never had the tests, the report channel or the nonce.

Values cross as bytes: arithmetic types, `std::string`, `std::vector`, `std::pair`,
`std::tuple`, `std::optional`, ordered and unordered maps and sets of those, and
`std::any` holding a scalar or a string (other `std::any` contents cross as a value of an
opaque type of their own). Any other parameter or result type is a compile error of the
driver. An exception the program raises reaches the tests as a `std::runtime_error` with
its message; a reply that does not decode makes the call throw too. When the program's
process ends during a call, the driver ends without a record (killed by the same signal,
or with exit status 1). Arguments passed by non-const reference are not written back.
"""

from __future__ import annotations

BRIDGE = r"""
#include <any>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <ios>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ledex {
constexpr std::uint64_t MAX_MESSAGE = std::uint64_t(64) << 20;

struct Writer {
    std::string bytes;
    void raw(const void *data, std::size_t size) { bytes.append(static_cast<const char *>(data), size); }
    void count(std::size_t size) { std::uint64_t n = size; raw(&n, sizeof n); }
};

struct Reader {
    const char *at, *end;
    void raw(void *data, std::size_t size) {
        if (std::size_t(end - at) < size) throw std::runtime_error("the program's process sent malformed data");
        std::memcpy(data, at, size);
        at += size;
    }
    std::size_t count() {
        std::uint64_t n;
        raw(&n, sizeof n);
        if (n > std::uint64_t(end - at)) throw std::runtime_error("the program's process sent malformed data");
        return std::size_t(n);
    }
};

template <class T, class = void> struct Codec {
    static_assert(sizeof(T) == 0, "the sandbox cannot pass values of this type between the tests and the program");
};
template <class T> void put(Writer &w, const T &value) { Codec<T>::put(w, value); }
template <class T> void get(Reader &r, T &value) { Codec<T>::get(r, value); }

template <class T> struct Codec<T, std::enable_if_t<std::is_arithmetic_v<T> || std::is_enum_v<T>>> {
    static void put(Writer &w, const T &value) { w.raw(&value, sizeof value); }
    static void get(Reader &r, T &value) { r.raw(&value, sizeof value); }
};
template <> struct Codec<bool> {
    static void put(Writer &w, const bool &value) { char byte = value; w.raw(&byte, 1); }
    static void get(Reader &r, bool &value) { char byte; r.raw(&byte, 1); value = byte != 0; }
};
template <> struct Codec<std::string> {
    static void put(Writer &w, const std::string &value) { w.count(value.size()); w.raw(value.data(), value.size()); }
    static void get(Reader &r, std::string &value) {
        std::size_t size = r.count();
        value.assign(r.at, size);
        r.at += size;
    }
};
template <> struct Codec<std::nullopt_t> {
    static void put(Writer &, const std::nullopt_t &) {}
    static void get(Reader &, std::nullopt_t &) {}
};
template <class A, class B> struct Codec<std::pair<A, B>> {  // A is const in a map's items: only put is used
    static void put(Writer &w, const std::pair<A, B> &value) {
        ledex::put(w, value.first);
        ledex::put(w, value.second);
    }
    static void get(Reader &r, std::pair<A, B> &value) {
        ledex::get(r, value.first);
        ledex::get(r, value.second);
    }
};
template <class... T> struct Codec<std::tuple<T...>> {
    static void put(Writer &w, const std::tuple<T...> &value) {
        std::apply([&](const auto &...items) { (ledex::put(w, items), ...); }, value);
    }
    static void get(Reader &r, std::tuple<T...> &value) {
        std::apply([&](auto &...items) { (ledex::get(r, items), ...); }, value);
    }
};
template <class T> struct Codec<std::optional<T>> {
    static void put(Writer &w, const std::optional<T> &value) {
        ledex::put(w, value.has_value());
        if (value) ledex::put(w, *value);
    }
    static void get(Reader &r, std::optional<T> &value) {
        bool present;
        ledex::get(r, present);
        value.reset();
        if (present) ledex::get(r, value.emplace());
    }
};
// Sequences and associative containers: a count, then the items (maps: key and value pairs).
template <class C> struct Items {
    static void put(Writer &w, const C &value) {
        w.count(value.size());
        for (const auto &item : value) ledex::put(w, item);
    }
};
template <class T, class A> struct Codec<std::vector<T, A>> : Items<std::vector<T, A>> {
    static void get(Reader &r, std::vector<T, A> &value) {
        value.clear();
        for (std::size_t n = r.count(); n; --n) {
            T item{};
            ledex::get(r, item);
            value.push_back(std::move(item));
        }
    }
};
template <class C, class Item> struct Associative : Items<C> {
    static void get(Reader &r, C &value) {
        value.clear();
        for (std::size_t n = r.count(); n; --n) {
            Item item{};
            ledex::get(r, item);
            value.insert(std::move(item));
        }
    }
};
template <class K, class V, class... P>
struct Codec<std::map<K, V, P...>> : Associative<std::map<K, V, P...>, std::pair<K, V>> {};
template <class K, class V, class... P>
struct Codec<std::unordered_map<K, V, P...>> : Associative<std::unordered_map<K, V, P...>, std::pair<K, V>> {};
template <class K, class... P> struct Codec<std::set<K, P...>> : Associative<std::set<K, P...>, K> {};
template <class K, class... P>
struct Codec<std::unordered_set<K, P...>> : Associative<std::unordered_set<K, P...>, K> {};

// What a std::any holding none of the scalars below crosses as: only its type's name.
struct Opaque {
    std::string type_name;
};
template <> struct Codec<std::any> {
    template <class T> static bool put_as(Writer &w, const std::any &value, char tag) {
        const T *held = std::any_cast<T>(&value);
        if (held) {
            w.raw(&tag, 1);
            ledex::put(w, *held);
        }
        return held != nullptr;
    }
    static void put(Writer &w, const std::any &value) {
        if (put_as<int>(w, value, 'i') || put_as<long>(w, value, 'l') || put_as<long long>(w, value, 'L') ||
            put_as<float>(w, value, 'f') || put_as<double>(w, value, 'd') || put_as<bool>(w, value, 'b') ||
            put_as<char>(w, value, 'c') || put_as<std::string>(w, value, 's')) {
            return;
        }
        if (const char *const *text = std::any_cast<const char *>(&value)) {
            w.raw("p", 1);
            ledex::put(w, std::string(*text));
            return;
        }
        w.raw(value.has_value() ? "o" : "n", 1);
        if (value.has_value()) ledex::put(w, std::string(value.type().name()));
    }
    template <class T> static std::any read(Reader &r) {
        T held{};
        ledex::get(r, held);
        return std::any(std::move(held));
    }
    static void get(Reader &r, std::any &value) {
        static std::deque<std::string> texts;  // what `const char *` values point to
        char tag;
        r.raw(&tag, 1);
        switch (tag) {
            case 'i': value = read<int>(r); break;
            case 'l': value = read<long>(r); break;
            case 'L': value = read<long long>(r); break;
            case 'f': value = read<float>(r); break;
            case 'd': value = read<double>(r); break;
            case 'b': value = read<bool>(r); break;
            case 'c': value = read<char>(r); break;
            case 's': value = read<std::string>(r); break;
            case 'p': ledex::get(r, texts.emplace_back()); value = texts.back().c_str(); break;
            case 'o': value = Opaque{}; ledex::get(r, std::any_cast<Opaque &>(value).type_name); break;
            case 'n': value.reset(); break;
            default: throw std::runtime_error("the program's process sent malformed data");
        }
    }
};

// The channel: each message is a 64-bit size, then that many bytes. Replies lead with 'v'
// (the value follows) or 'e' (an exception's message follows).
inline int calls_fd = -1, replies_fd = -1;

inline bool write_all(int fd, const char *data, std::size_t size) {
    while (size) {
        ssize_t written = ::write(fd, data, size);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) return false;
        data += written;
        size -= std::size_t(written);
    }
    return true;
}
inline bool read_all(int fd, char *data, std::size_t size) {
    while (size) {
        ssize_t got = ::read(fd, data, size);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return false;
        data += got;
        size -= std::size_t(got);
    }
    return true;
}
inline bool send(int fd, const std::string &message) {
    std::uint64_t size = message.size();
    return write_all(fd, reinterpret_cast<const char *>(&size), sizeof size) &&
           write_all(fd, message.data(), message.size());
}
inline bool receive(int fd, std::string &message) {
    std::uint64_t size;
    if (!read_all(fd, reinterpret_cast<char *>(&size), sizeof size) || size > MAX_MESSAGE) return false;
    message.resize(std::size_t(size));
    return read_all(fd, message.data(), message.size());
}

// The driver's end when the program's process (its only child) is gone: killed by the same
// signal, or exit status 1, without a record.
[[noreturn]] inline void program_ended() {
    int status = 0;
    while (waitpid(-1, &status, 0) < 0 && errno == EINTR) {}
    std::fflush(nullptr);
    if (WIFSIGNALED(status)) {
        std::fprintf(stderr, "the program's process was killed by signal %d during a call\n", WTERMSIG(status));
        std::fflush(nullptr);
        std::signal(WTERMSIG(status), SIG_DFL);
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, WTERMSIG(status));
        sigprocmask(SIG_UNBLOCK, &mask, nullptr);
        kill(getpid(), WTERMSIG(status));
    }
    std::fprintf(stderr, "the program's process ended during a call (exit status %d)\n", WEXITSTATUS(status));
    std::fflush(nullptr);
    _exit(1);  // never 0: the driver did not finish
}

template <class F> struct Remote;
template <class R, class... A> struct Remote<R(A...)> {
    int index;
    R operator()(A... arguments) const {
        Writer call;
        ledex::put(call, index);
        (ledex::put(call, static_cast<const std::decay_t<A> &>(arguments)), ...);
        std::string reply;
        if (!send(calls_fd, call.bytes) || !receive(replies_fd, reply)) program_ended();
        if (reply.empty() || reply[0] != 'v') {
            throw std::runtime_error("the program raised: " + reply.substr(reply.empty() ? 0 : 1));
        }
        Reader r{reply.data() + 1, reply.data() + reply.size()};
        if constexpr (!std::is_void_v<R>) {
            std::decay_t<R> value{};
            ledex::get(r, value);
            return value;
        }
    }
};

using Handler = void (*)(Reader &, Writer &);
template <class R, class... A> void invoke_as(R (*function)(A...), Reader &r, Writer &w) {
    std::tuple<std::decay_t<A>...> arguments;
    ledex::get(r, arguments);
    if constexpr (std::is_void_v<R>) {
        std::apply(function, arguments);
    } else {
        ledex::put(w, static_cast<const std::decay_t<R> &>(std::apply(function, arguments)));
    }
}
template <auto F> void invoke(Reader &r, Writer &w) { invoke_as(F, r, w); }

// The program's process: answer the calls on descriptor 3 until the driver closes it; the
// replies go to descriptor 4.
[[noreturn]] inline void serve(const Handler *handlers, int count) {
    calls_fd = 3;
    replies_fd = 4;
    std::string call;
    while (receive(calls_fd, call)) {
        Writer reply;
        reply.raw("v", 1);
        try {
            Reader r{call.data(), call.data() + call.size()};
            int index;
            ledex::get(r, index);
            if (index < 0 || index >= count) throw std::runtime_error("no such function");
            handlers[index](r, reply);
        } catch (const std::exception &error) {
            reply.bytes = std::string("e") + error.what();
        } catch (...) {
            reply.bytes = "ean exception that is not a std::exception";
        }
        if (!send(replies_fd, reply.bytes)) break;
    }
    std::fflush(nullptr);
    _exit(0);
}

// The driver's main: the report channel is descriptor 3, the nonce's pipe 4, the calls 5 and
// the replies 6; a byte on 7 starts the program's process.
[[noreturn]] inline void run_tests(int (*tests)(int, char **), int argc, char **argv) {
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) _exit(120);
    std::signal(SIGPIPE, SIG_IGN);
    calls_fd = 5;
    replies_fd = 6;
    char nonce[64];
    ssize_t size = read(4, nonce, sizeof nonce - 1);
    nonce[size > 0 ? size : 0] = 0;
    close(4);
    if (write(7, "r", 1) != 1) _exit(120);
    close(7);
    int status = tests(argc, argv);
    std::fflush(nullptr);
    char line[128];
    int length = std::snprintf(line, sizeof line, "%s complete 0 - -\n", nonce);
    if (status == 0 && nonce[0] && write(3, line, length) != length) status = 1;
    _exit(status);
}
}  // namespace ledex
"""

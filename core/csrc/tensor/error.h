// Errors: one convention, "[op] what is wrong: expected X, got Y".
// Each C++ exception type maps to the Python exception of the same name (bindings/module.cpp).
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace ember {

struct Error : std::runtime_error { using std::runtime_error::runtime_error; };
struct TypeError : Error { using Error::Error; };
struct ValueError : Error { using Error::Error; };
struct IndexError : Error { using Error::Error; };
struct NotImplementedError : Error { using Error::Error; };
struct ZeroDivisionError : Error { using Error::Error; };
struct OutOfMemoryError : Error { using Error::Error; };  // ember.OutOfMemoryError, a RuntimeError

namespace detail {
inline void format_into(std::ostringstream&) {}
template <typename T>
inline void format_one(std::ostringstream& os, const T& v) { os << v; }
template <typename T>
inline void format_one(std::ostringstream& os, const std::vector<T>& v) {
  os << "(";
  for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  if (v.size() == 1) os << ",";
  os << ")";
}
template <typename T, typename... R>
inline void format_into(std::ostringstream& os, const T& v, const R&... rest) {
  format_one(os, v);
  format_into(os, rest...);
}
}  // namespace detail

template <typename... A>
std::string str(const A&... a) {
  std::ostringstream os;
  detail::format_into(os, a...);
  return os.str();
}

}  // namespace ember

// EMBER_CHECK(cond, ValueError, "[op] ...", args...)
#define EMBER_CHECK(cond, Kind, ...)                          \
  do {                                                        \
    if (!(cond)) throw ::ember::Kind(::ember::str(__VA_ARGS__)); \
  } while (0)

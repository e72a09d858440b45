// Errors: exceptions that carry their context as one readable line.
//
// Library code never exits; it throws gb::Error (bad data, bad files) or gb::UsageError (bad
// arguments). The CLI prints `glassbox: error: <what()>` and exits 1 (2 for usage errors).
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace gb {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A mistake in how the program was called (bad flag value, unknown hook name, ...): exit 2.
class UsageError : public Error {
 public:
  using Error::Error;
};

// Concatenates any streamable values into one string: cat("tensor ", name, ": ", n, " bytes").
template <typename... Parts>
std::string cat(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  return out.str();
}

template <typename... Parts>
[[noreturn]] void fail(Parts&&... parts) {
  throw Error(cat(std::forward<Parts>(parts)...));
}

template <typename... Parts>
[[noreturn]] void usage_fail(Parts&&... parts) {
  throw UsageError(cat(std::forward<Parts>(parts)...));
}

// Runs `body`; if it throws gb::Error, rethrows with `context: ` prefixed to the message,
// keeping the error kind. Used to say which file or tensor a low-level failure belongs to.
template <typename Body>
decltype(auto) with_context(const std::string& context, Body&& body) {
  try {
    return body();
  } catch (const UsageError& e) {
    throw UsageError(context + ": " + e.what());
  } catch (const Error& e) {
    throw Error(context + ": " + e.what());
  }
}

}  // namespace gb

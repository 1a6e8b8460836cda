// clr::Error, the one exception type of the library, and the checks that raise it.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace clr {

// Every failure the library reports (bad shape, bad argument, corrupt file, non-finite
// loss) is a clr::Error whose message names the argument or file, what was seen and what
// was expected.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

namespace detail {

template <class... Parts>
std::string concat(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  return out.str();
}

}  // namespace detail

// Throws clr::Error with the message formed by streaming `parts`; the message is only
// built when the check fails, so checks cost a comparison on the success path.
template <class... Parts>
void require(bool condition, Parts&&... parts) {
  if (!condition) throw Error(detail::concat(std::forward<Parts>(parts)...));
}

}  // namespace clr

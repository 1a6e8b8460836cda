// What the training programs record besides the library's training checkpoint
// (clr/train/checkpoint.hpp): every flag's value, so that a checkpoint says what run made it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "args.hpp"

namespace clr::examples {

// Every flag's value (given or default), as "arg.<name>" metadata.
inline std::map<std::string, std::string> flags_metadata(const Args& args) {
  std::map<std::string, std::string> out;
  for (const auto& name : args.names())
    if (auto value = args.find<std::string>(name)) out["arg." + name] = *value;
  return out;
}

}  // namespace clr::examples

// Text made safe to print on one line: control characters written as escapes.
#pragma once

#include <string>
#include <string_view>

namespace gb {

// \n, \t and \r as those escapes; other control bytes, DEL and every byte of `also` as \xNN.
// Other bytes (UTF-8 included) pass unchanged.
std::string escape_control(std::string_view s, std::string_view also = {});

}  // namespace gb

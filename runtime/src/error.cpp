#include <constnet/error.hpp>

namespace constnet {

error::error(const std::string& message) : std::runtime_error(message) {}

// Out of line so the vtable and type_info live in one object file; an
// exception thrown from one shared library then still matches a catch in
// another.
error::~error() = default;

}  // namespace constnet

#pragma once

#include <stdexcept>
#include <string>

namespace constnet {

// The one exception type of the project: callers catch constnet::error and get
// a one-sentence message naming the file or tensor, what was expected and what
// was found.
class error : public std::runtime_error {
public:
    explicit error(const std::string& message);
    ~error() override;
};

}  // namespace constnet

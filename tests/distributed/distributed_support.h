// What ember_distributed_tests share: the process group every test runs in.
#pragma once

#include <memory>

#include <ember/ember.h>

namespace ember::test {
distributed::ProcessGroup& group();
std::shared_ptr<distributed::ProcessGroup> group_ptr();
}  // namespace ember::test

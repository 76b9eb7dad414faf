// main() for ember_tests with Catch2 v2. With Catch2 v3, tests/CMakeLists.txt links
// Catch2::Catch2WithMain instead and does not compile this file.
#define CATCH_CONFIG_MAIN
#include "catch.h"

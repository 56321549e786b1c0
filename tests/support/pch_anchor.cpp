// The precompiled header of the tests (tests/CMakeLists.txt) is built with this empty file.

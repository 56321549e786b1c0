// Compiled only by the test daemon_cannot_include_git: the daemon links no libgit2 adapter,
// so the git adapter's header must not be found (cmake/Warnings.cmake, podcd_add_library).
#include "git/repo.hpp"

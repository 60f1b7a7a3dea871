package passes

import "github.com/allot-dev/allot"

// WorkspaceAdmin is the role of a ThinkTank workspace administrator: the
// Session Passes screen is theirs, so they read and export the usage log,
// define custom fields, and create and change sessions.
const WorkspaceAdmin allot.Role = "passes.workspace_admin"

package seats

import "github.com/allot-dev/allot"

// EntitlementManager is the role of a SpotMe Entitlement manager: only they
// transfer seats and modules to the organization's events, run the
// consumption check by hand, and read the Entitlements tab (the overview,
// the history, the events' entitlements and their exports).
const EntitlementManager allot.Role = "seats.entitlement_manager"

// EventOrganizer is the role of whoever creates the organization's events
// and keeps their participants and modules current (an Entitlement manager
// may do that too).
const EventOrganizer allot.Role = "seats.event_organizer"

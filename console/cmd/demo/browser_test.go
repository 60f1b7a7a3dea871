package main

// Browser tests: the demo's console in headless Chromium, driven with
// chromedp, one story per screen, clicked through as a person would.
//
// They need Chromium (Debian: apt-get install -y chromium). Without it they
// skip, saying how to install it, so the README's test command works on a
// machine with only Go; with ALLOT_REQUIRE_BROWSER_TESTS=1 (CI sets it) they
// fail instead. ALLOT_SKIP_BROWSER_TESTS=1 skips them even with Chromium.
// ALLOT_CHROMIUM names another binary. Screenshots of every screen at a
// phone and a desktop viewport go to ALLOT_SCREENSHOTS_DIR, or else to a
// fresh directory under os.TempDir; the test logs which.

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The viewports every screen is shown at.
var (
	phone   = viewport{"phone", 390, 844, true}
	desktop = viewport{"desktop", 1366, 900, false}
)

type viewport struct {
	name          string
	width, height int64
	mobile        bool
}

func (v viewport) emulate() chromedp.Action[chromedp.Void] {
	if v.mobile {
		return chromedp.EmulateViewport(v.width, v.height, chromedp.EmulateMobile, chromedp.EmulateScale(2))
	}
	return chromedp.EmulateViewport(v.width, v.height)
}

// chromium finds the browser. Without one it skips the test, saying how to
// install it, or fails it when ALLOT_REQUIRE_BROWSER_TESTS is set.
func chromium(t *testing.T) string {
	t.Helper()
	if os.Getenv("ALLOT_SKIP_BROWSER_TESTS") != "" {
		t.Skip("ALLOT_SKIP_BROWSER_TESTS is set: the browser tests do not run")
	}
	if p := os.Getenv("ALLOT_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const why = "the browser tests need Chromium and found none on PATH: install it (Debian: apt-get install -y chromium) " +
		"or name its binary with ALLOT_CHROMIUM"
	if os.Getenv("ALLOT_REQUIRE_BROWSER_TESTS") != "" {
		t.Fatal(why + " (ALLOT_REQUIRE_BROWSER_TESTS is set)")
	}
	t.Skip(why)
	return ""
}

var screenshots struct {
	once sync.Once
	dir  string
	err  error
}

// screenshotDir is ALLOT_SCREENSHOTS_DIR, or a fresh directory under
// os.TempDir shared by the test run.
func screenshotDir(t *testing.T) string {
	t.Helper()
	screenshots.once.Do(func() {
		if d := os.Getenv("ALLOT_SCREENSHOTS_DIR"); d != "" {
			screenshots.dir, screenshots.err = d, os.MkdirAll(d, 0o755)
			return
		}
		screenshots.dir, screenshots.err = os.MkdirTemp("", "allot-console-screenshots-")
	})
	if screenshots.err != nil {
		t.Fatal(screenshots.err)
	}
	return screenshots.dir
}

// browser is one story's tab on the demo's console, served by httptest
// with its own fresh history.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	root := chromiumProcess(t)
	h, err := handler(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	ctx, cancelTab := chromedp.NewContext(root)
	ctx, cancelTimeout := context.WithTimeout(ctx, 30*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelTab() })
	b := &browser{t: t, ctx: ctx, base: srv.URL}
	b.run(phone.emulate())
	return b
}

// shared is the one Chromium process the tests open their tabs in; TestMain
// ends it.
var shared struct {
	sync.Mutex
	ctx  context.Context
	stop func()
}

// chromiumProcess starts Chromium on first use, with a fresh profile and
// nothing that reaches the network on its own, and returns its context.
func chromiumProcess(t *testing.T) context.Context {
	t.Helper()
	bin := chromium(t)
	shared.Lock()
	defer shared.Unlock()
	if shared.ctx != nil {
		return shared.ctx
	}
	dir, err := os.MkdirTemp("", "allot-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(dir),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(actx)
	stop := func() { cancelBrowser(); cancelAlloc(); os.RemoveAll(dir) }
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		stop()
		t.Fatalf("starting %s: %v", bin, err)
	}
	shared.ctx, shared.stop = ctx, stop
	return ctx
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.stop != nil {
		shared.stop()
	}
	os.Exit(code)
}

// run runs the actions, failing the test at the first error.
func (b *browser) run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatal(err)
	}
}

// get runs the action and returns its value, failing the test on error.
func get[T any](b *browser, a chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

// open loads a page of the console and checks it fits the phone's width.
func (b *browser) open(path string) {
	b.t.Helper()
	b.run(chromedp.Navigate(b.base+path), chromedp.WaitReady(chromedp.CSS("body")))
	b.fits()
}

// submit clicks sel, which submits a form, and waits for the page the
// form leads to; that page must fit the phone's width.
func (b *browser) submit(sel string) {
	b.t.Helper()
	get(b, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)))
	b.run(chromedp.WaitReady(chromedp.CSS("body")))
	b.fits()
}

// fits checks that the page needs no horizontal scroll at the phone's
// width: whatever is wider scrolls inside its own box.
func (b *browser) fits() {
	b.t.Helper()
	got := get(b, chromedp.Evaluate[struct {
		Scroll int64  `json:"scroll"`
		Client int64  `json:"client"`
		Path   string `json:"path"`
	}](`({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth, path: location.pathname + location.search})`))
	if got.Scroll > got.Client {
		b.t.Errorf("%s scrolls sideways at %dpx: the page is %dpx wide", got.Path, got.Client, got.Scroll)
	}
}

// text returns the trimmed text of the first element sel matches.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return strings.TrimSpace(get(b, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible)))
}

// number returns the integer shown by the first element sel matches.
func (b *browser) number(sel string) int64 {
	b.t.Helper()
	s := b.text(sel)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		b.t.Fatalf("%s shows %q, not a number", sel, s)
	}
	return n
}

// count returns how many elements the CSS selector sel matches.
func (b *browser) count(sel string) int {
	b.t.Helper()
	return get(b, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
}

// screenshots saves the current page, whole, at the phone's and the
// desktop's viewport, and leaves the tab at the phone's.
func (b *browser) screenshots(name string) {
	b.t.Helper()
	dir := screenshotDir(b.t)
	for _, v := range []viewport{phone, desktop} {
		b.run(v.emulate(), chromedp.Reload(), chromedp.WaitReady(chromedp.CSS("body")))
		png := get(b, chromedp.FullScreenshot(100))
		file := filepath.Join(dir, name+"-"+v.name+".png")
		if err := os.WriteFile(file, png, 0o644); err != nil {
			b.t.Fatal(err)
		}
		b.t.Logf("screenshot: %s", file)
	}
	b.run(phone.emulate())
}

// Entitlements: the sales summit is missing seats and a module, in red
// under a warning banner; transferring both in its dialog clears them.
func TestBrowser_SeatsTransfer(t *testing.T) {
	b := newBrowser(t)
	b.open("/console/seats?tab=live")
	const row = `#event-sales-summit`
	if got := b.text(row + ` .missing`); got != "Missing 70 seats breakouts" {
		t.Fatalf("the summit's badge reads %q", got)
	}
	if b.count(`#missing-banner`) != 1 {
		t.Fatal("no warning banner while the summit misses entitlements")
	}

	// Open the dialog: the quantity proposed is what is missing.
	b.run(chromedp.Click(chromedp.CSS(row+` details.dialog summary`), chromedp.NodeVisible))
	qty := get(b, chromedp.Value(chromedp.CSS(row+` input[name=quantity]`), chromedp.NodeVisible))
	if qty != "70" {
		t.Errorf("the dialog proposes %q seats, want the 70 missing", qty)
	}
	b.submit(row + ` form[aria-label^="Transfer seats"] button[type=submit]`)
	if got := b.text(`.notice`); got != "Transferred 70 seats to sales-summit" {
		t.Errorf("notice after the seats: %q", got)
	}
	if got := b.text(row + ` .missing`); got != "Missing breakouts" {
		t.Errorf("after the seats, the badge reads %q", got)
	}

	b.run(chromedp.Click(chromedp.CSS(row+` details.dialog summary`), chromedp.NodeVisible))
	b.submit(row + ` input[name=module][value=breakouts] ~ button`)
	if n := b.count(row + ` .missing`); n != 0 {
		t.Errorf("the red badge is still there after the module")
	}
	if got := b.text(row + ` .ok`); got != "Covered" {
		t.Errorf("the summit's entitlements read %q", got)
	}
	if b.count(`#missing-banner`) != 0 {
		t.Errorf("the warning banner stays with nothing missing")
	}
	b.screenshots("entitlements-live")

	b.open("/console/seats")
	b.screenshots("entitlements-overview")
}

// Licenses: inviting a member adds a pending license, and the bar's
// pending part grows by one purchased license's share.
func TestBrowser_LicensesInvite(t *testing.T) {
	b := newBrowser(t)
	b.open("/console/licenses")
	purchased, pending, available := b.number(`#n-purchased`), b.number(`#n-pending`), b.number(`#n-available`)
	barBefore, pendingBefore := b.width(`#bar`), b.width(`#bar rect.pending`)

	b.run(
		chromedp.SendKeys(chromedp.CSS(`#invite input[name=email]`), "noa@acme.test", chromedp.NodeVisible),
		chromedp.SetValue(chromedp.CSS(`#invite select[name=team]`), "sales", chromedp.NodeVisible),
	)
	b.submit(`#invite button[type=submit]`)

	if got := b.text(`.notice`); got != "Invited noa@acme.test to sales: pending" {
		t.Errorf("notice: %q", got)
	}
	if got := b.number(`#n-pending`); got != pending+1 {
		t.Errorf("pending: %d, want %d", got, pending+1)
	}
	if got := b.number(`#n-available`); got != available-1 {
		t.Errorf("available: %d, want %d", got, available-1)
	}
	if got := b.text(`[id="member-noa@acme.test"] .state`); got != "pending" {
		t.Errorf("noa's state: %q", got)
	}
	barAfter, pendingAfter := b.width(`#bar`), b.width(`#bar rect.pending`)
	want := pendingBefore + barBefore/float64(purchased)
	if barAfter != barBefore || pendingAfter < want-1 || pendingAfter > want+1 {
		t.Errorf("the bar's pending part is %.1fpx of %.1fpx, was %.1fpx of %.1fpx: want %.1fpx",
			pendingAfter, barAfter, pendingBefore, barBefore, want)
	}
	b.screenshots("licenses")
}

// width is the rendered width, in CSS pixels, of the element sel matches.
func (b *browser) width(sel string) float64 {
	b.t.Helper()
	return get(b, chromedp.Evaluate[float64](fmt.Sprintf(`document.querySelector(%q).getBoundingClientRect().width`, sel)))
}

// Session Passes: a guest enters a session from the screen's form; the
// usage log shows the row, and the balance drops by what it spent.
func TestBrowser_PassesLogin(t *testing.T) {
	b := newBrowser(t)
	b.open("/console/passes")
	balance := b.number(`#balance`)
	internal := b.number(`#internal`)

	b.run(chromedp.Click(chromedp.CSS(`#enter summary`), chromedp.NodeVisible))
	b.run(
		chromedp.SetValue(chromedp.CSS(`#enter select[name=session]`), "weekly-ideation", chromedp.NodeVisible),
		chromedp.Clear(chromedp.CSS(`#enter input[name=location]`)),
		chromedp.SendKeys(chromedp.CSS(`#enter input[name=location]`), "Porto"),
	)
	b.submit(`#enter button[type=submit]`)

	if got := b.text(`.notice`); !strings.HasPrefix(got, "Entered weekly-ideation: 1 pass spent") {
		t.Errorf("notice: %q", got)
	}
	row := get(b, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#usage tbody tr")]
		.map(tr => [...tr.cells].map(td => td.textContent.trim()))
		.find(cells => cells.includes("Porto")) || []`))
	if len(row) < 9 || row[1] != "weekly-ideation" || row[5] != admin || row[7] != "1" {
		t.Fatalf("the usage log's row for the login: %q", row)
	}
	if got := b.number(`#balance`); got != balance-1 || row[8] != strconv.FormatInt(got, 10) {
		t.Errorf("balance: %d (the row says %s), want %d", got, row[8], balance-1)
	}
	b.run(chromedp.Navigate(b.base + "/console/passes"))
	if got := b.number(`#internal`); got != internal+1 {
		t.Errorf("internal sessions: %d passes, want %d", got, internal+1)
	}
	b.fits()
	b.screenshots("session-passes")
}

// Package browsertest tests the dashboard's page in a real browser:
// headless Chromium, driven with chromedp, against a running netsim
// system. It is a module of its own, so that the main module does not
// depend on chromedp. The tests skip when no Chromium is installed.
//
//	cd dashboard/browsertest && go test ./...
package browsertest

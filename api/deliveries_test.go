package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/webhook"
)

// deliveryBody is the expected JSON of delivery $WD<n>.
func deliveryBody(n int, event, status string) string {
	next := `"2099-01-01T00:00:00.000Z"` // notYet
	last, answer := `null`, `null`
	if status != "pending" {
		next, last, answer = "null", "204", `"ok"`
	}
	attempts := 0
	if status != "pending" {
		attempts = 1
	}
	return fmt.Sprintf(`{"sid":"$WD%d","event_type":%q,"chat_service_sid":"$IS","target":"http://a.test/hook",
		"method":"POST","params":"A=1","status":%q,"attempts":%d,"last_status_code":%s,"last_error":null,
		"last_response":%s,"next_attempt_at":%s,"date_created":"2026-01-02T03:04:05.000Z","date_updated":"2026-01-02T03:04:05.000Z"}`,
		n, event, status, attempts, last, answer, next)
}

// notYet is when the pending deliveries below are due: never during the
// test, so that the running dispatcher (on the real clock) leaves them as
// they are.
var notYet = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)

// TestDeliveryListFilters: the outbox listing, parley's one filtered list
// today, shows how every filtered list behaves: filters narrow it, come
// first in every meta URL (enums as the spec spells them), and bind page
// tokens, which another filter refuses.
func TestDeliveryListFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	err := e.srv.Store.Update(ctx, func(tx parley.Tx) error {
		for i := 1; i <= 5; i++ {
			d := parley.Delivery{Sid: sidN("WD", i), EventType: "onUserAdded", ServiceSid: IS, URL: "http://a.test/hook",
				Method: "POST", Params: "A=1", Status: parley.DeliveryPending, NextAttemptAt: notYet,
				DateCreated: clock, DateUpdated: clock}
			if i == 4 {
				d.EventType = "onUserUpdated"
			}
			if err := tx.EnqueueDelivery(ctx, d); err != nil {
				return err
			}
			if i%2 == 1 { // 1, 3 and 5 delivered
				answer := "ok"
				d.Status, d.Attempts, d.LastStatusCode, d.LastResponse = parley.DeliveryDelivered, 1, 204, &answer
				if err := tx.FinishDelivery(ctx, d); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	const path = "/parley/v1/WebhookDeliveries"
	listOf := func(query string, pageSize int, next string, items ...string) string {
		return fmt.Sprintf(`{"webhook_deliveries":[%s],"meta":{"page":0,"page_size":%d,
			"first_page_url":"$BASE%s?%sPageSize=%d&Page=0","previous_page_url":null,
			"url":"$BASE%s?%sPageSize=%d&Page=0","next_page_url":%s,"key":"webhook_deliveries"}}`,
			strings.Join(items, ","), pageSize, path, query, pageSize, path, query, pageSize, next)
	}
	e.run(
		want(getQ(path, "Status=DELIVERED"), 200, listOf("Status=delivered&", 50, "null",
			deliveryBody(1, "onUserAdded", "delivered"), deliveryBody(3, "onUserAdded", "delivered"),
			deliveryBody(5, "onUserAdded", "delivered"))),
		want(getQ(path, "Status=pending&EventType=onUserUpdated"), 200, listOf("Status=pending&EventType=onUserUpdated&", 50, "null",
			deliveryBody(4, "onUserUpdated", "pending"))),
		want(getQ(path, "Order=Desc&EventType=onUserAdded"), 200, listOf("EventType=onUserAdded&Order=desc&", 50, "null",
			deliveryBody(5, "onUserAdded", "delivered"), deliveryBody(3, "onUserAdded", "delivered"),
			deliveryBody(2, "onUserAdded", "pending"), deliveryBody(1, "onUserAdded", "delivered"))),
		want(getQ(path, "Status=failed"), 200, listOf("Status=failed&", 50, "null")),
		want(getQ(path, "Status=lost"), 400, errBody(400, 20001, "Invalid Status: must be one of pending, delivered, failed, recorded")),
		want(getQ(path, "Order=sideways"), 400, errBody(400, 20001, "Invalid Order: must be one of asc, desc")),
	)

	// Page through the delivered ones newest first, two at a time.
	first := e.run(ok(getQ(path, "Status=delivered&Order=desc&PageSize=2"), 200))[0]
	var page struct {
		Deliveries []struct{ Sid string } `json:"webhook_deliveries"`
		Meta       map[string]any
	}
	decode(t, first.body, &page)
	next, _ := page.Meta["next_page_url"].(string)
	m := regexp.MustCompile(`^` + regexp.QuoteMeta(e.srv.URL+path) +
		`\?Status=delivered&Order=desc&PageSize=2&Page=1&PageToken=(PT[A-Za-z0-9_-]+)$`).FindStringSubmatch(next)
	if m == nil || len(page.Deliveries) != 2 || page.Deliveries[0].Sid != sidN("WD", 5) || page.Deliveries[1].Sid != sidN("WD", 3) {
		t.Fatalf("first page: %s", first.body)
	}
	second := e.run(ok(getQ(path, strings.TrimPrefix(next, e.srv.URL+path+"?")), 200))[0]
	decode(t, second.body, &page)
	if len(page.Deliveries) != 1 || page.Deliveries[0].Sid != sidN("WD", 1) || page.Meta["next_page_url"] != nil ||
		page.Meta["previous_page_url"] == nil {
		t.Fatalf("second page: %s", second.body)
	}
	// The token is bound to the filters and the order: any other is refused.
	for _, query := range []string{"Status=pending&Order=desc", "Status=delivered", "Status=delivered&Order=asc",
		"Status=delivered&Order=desc&EventType=onUserAdded", ""} {
		sep := "&"
		if query == "" {
			sep = ""
		}
		e.run(want(getQ(path, query+sep+"PageToken="+m[1]), 400, errBody(400, 21481, "Invalid PageToken")))
	}
	// The same filters in another order, or case, name the same list.
	e.run(ok(getQ(path, "Order=DESC&Status=Delivered&PageToken="+m[1]), 200))
}

// TestDeliveryResponse: each attempt keeps the start of the receiver's
// answer, as text: invalid UTF-8 and NUL replaced, a long body cut to 4
// KiB on a rune boundary. The dispatcher runs on the scenario's fixed
// clock with a retry that is due at once, so that whole bodies compare.
func TestDeliveryResponse(t *testing.T) {
	t.Parallel()
	second := make(chan struct{}) // the second attempt waits for it
	var attempts atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if attempts.Add(1) == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte("not now \xff\x00!"))
			return
		}
		<-second
		// 1,666 three-byte runes: the cut at 4,096 bytes falls inside the
		// 1,366th, which is dropped whole.
		w.Write([]byte(strings.Repeat("€", 1666)))
	}))
	t.Cleanup(recv.Close)
	t.Cleanup(func() {
		select {
		case <-second:
		default:
			close(second)
		}
	})
	sids := &countingSIDs{n: map[string]int{}}
	srv := parleytest.NewWith(t, parleytest.Options{
		Store:     newStore(t),
		Core:      core.Options{SIDs: sids, Now: func() time.Time { return clock }},
		Bootstrap: core.BootstrapOptions{AuthToken: token},
		// A retry due at once (Backoff/2 plus jitter of at most 1ns/2),
		// on the fixed clock.
		Webhooks: webhook.DispatcherOptions{Now: func() time.Time { return clock }, Backoff: time.Nanosecond},
	})
	e := &env{t: t, srv: srv, http: &http.Client{Timeout: 10 * time.Second}}
	e.run(
		ok(post("/v1/Configuration/Webhooks", form("PostWebhookUrl", recv.URL+"/hook", "Filters", "onUserAdded")), 200),
		// Twilio sends webhooks of REST writes only when asked to.
		ok(request{method: http.MethodPost, path: "/v1/Users", form: "Identity=alice",
			header: map[string]string{"X-Twilio-Webhook-Enabled": "true"}}, 201),
	)
	body := func(status string, attempts int, code int, lastError, response, next string) string {
		b, _ := json.Marshal(map[string]any{"sid": "$WD1", "event_type": "onUserAdded", "chat_service_sid": "$IS",
			"target": recv.URL + "/hook", "method": "POST", "params": userAddedParams, "status": status,
			"attempts": attempts, "last_status_code": code, "last_error": nullable(lastError),
			"last_response": response, "next_attempt_at": nullable(next),
			"date_created": "2026-01-02T03:04:05.000Z", "date_updated": "2026-01-02T03:04:05.000Z"})
		return string(b)
	}
	waitFor(t, "second attempt", func() bool { return attempts.Load() == 2 }) // the first answer is recorded before the retry is claimed
	e.run(want(get("/parley/v1/WebhookDeliveries/$WD1"), 200,
		body("pending", 1, 500, "HTTP 500", "not now \uFFFD\uFFFD!", "2026-01-02T03:04:05.000Z")))
	close(second)
	var got parley.Delivery
	waitFor(t, "delivered", func() bool {
		d, err := srv.App.FetchDelivery(context.Background(), sidN("WD", 1))
		got = d
		return err == nil && d.Status == parley.DeliveryDelivered
	})
	e.run(want(get("/parley/v1/WebhookDeliveries/$WD1"), 200,
		body("delivered", 2, 200, "", strings.Repeat("€", 1365), "")))
	if got.LastResponse == nil || len(*got.LastResponse) != 4095 {
		t.Fatalf("kept %v", got.LastResponse)
	}
}

// userAddedParams are the parameters of $US1's onUserAdded, made by
// TestDeliveryResponse's scenario.
const userAddedParams = "AccountSid=$AC&Attributes=%7B%7D&ChatServiceSid=$IS&DateCreated=2026-01-02T03%3A04%3A05Z" +
	"&EventType=onUserAdded&FriendlyName=&Identity=alice&RetryCount=0&RoleSid=$RL2&Source=API&UserSid=$US1"

// nullable is JSON null for "".
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

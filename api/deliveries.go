package api

import (
	"net/http"
	"time"

	"github.com/parleyhq/parley"
)

// /parley/v1/WebhookDeliveries is a parley extension, under a prefix that
// cannot collide with Twilio's paths: the webhook outbox, for people testing
// their webhook handlers.

const maxDeliveryPage = 100

type deliveryJSON struct {
	Sid            string  `json:"sid"`
	EventType      string  `json:"event_type"`
	ChatServiceSid string  `json:"chat_service_sid"`
	Target         string  `json:"target"`
	Method         string  `json:"method"`
	Params         string  `json:"params"`
	Status         string  `json:"status"`
	Attempts       int     `json:"attempts"`
	LastStatusCode *int    `json:"last_status_code"`
	LastError      *string `json:"last_error"`
	NextAttemptAt  *string `json:"next_attempt_at"`
	DateCreated    string  `json:"date_created"`
	DateUpdated    string  `json:"date_updated"`
}

// preciseDate keeps milliseconds: retries are scheduled finer than seconds.
func preciseDate(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

func delivery(d parley.Delivery) deliveryJSON {
	out := deliveryJSON{
		Sid:            d.Sid,
		EventType:      d.EventType,
		ChatServiceSid: d.ServiceSid,
		Target:         d.URL,
		Method:         d.Method,
		Params:         d.Params,
		Status:         string(d.Status),
		Attempts:       d.Attempts,
		DateCreated:    preciseDate(d.DateCreated),
		DateUpdated:    preciseDate(d.DateUpdated),
	}
	if d.LastStatusCode != 0 {
		out.LastStatusCode = &d.LastStatusCode
	}
	if d.LastError != "" {
		out.LastError = &d.LastError
	}
	if d.Status == parley.DeliveryPending {
		next := preciseDate(d.NextAttemptAt)
		out.NextAttemptAt = &next
	}
	return out
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	f, err := s.readForm(r)
	if err != nil {
		return err
	}
	lr, err := s.readList(r, f, maxDeliveryPage)
	if err != nil {
		return err
	}
	p, err := s.app.ListDeliveries(r.Context(), lr.query)
	if err != nil {
		return err
	}
	items := make([]deliveryJSON, len(p.Items))
	for i, d := range p.Items {
		items[i] = delivery(d)
	}
	writeList(w, "webhook_deliveries", items, jsonItem[deliveryJSON], pageMeta(s, s.baseURL(r), r.URL.EscapedPath(), "webhook_deliveries", lr, p))
	return nil
}

package api

import (
	"net/http"

	"github.com/parleyhq/parley/core"
)

// Configuration: /v1/Configuration, /v1/Services/{ChatServiceSid}/Configuration
// and the two webhook configurations beneath them.

func (s *Server) fetchServiceConfig(w http.ResponseWriter, r *http.Request) error {
	cfg, err := s.app.FetchServiceConfig(r.Context(), r.PathValue("ChatServiceSid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, serviceConfig(s.baseURL(r), cfg))
	return nil
}

func (s *Server) updateServiceConfig(w http.ResponseWriter, r *http.Request) error {
	f, err := s.readForm(r)
	if err != nil {
		return err
	}
	chatRole, err1 := f.str("DefaultChatServiceRoleSid")
	convRole, err2 := f.str("DefaultConversationRoleSid")
	creatorRole, err3 := f.str("DefaultConversationCreatorRoleSid")
	reach, err4 := f.boolean("ReachabilityEnabled")
	if err := firstErr(err1, err2, err3, err4); err != nil {
		return err
	}
	cfg, err := s.app.UpdateServiceConfig(r.Context(), r.PathValue("ChatServiceSid"), core.ServiceConfigUpdate{
		DefaultChatServiceRoleSid:         chatRole,
		DefaultConversationRoleSid:        convRole,
		DefaultConversationCreatorRoleSid: creatorRole,
		ReachabilityEnabled:               reach,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, serviceConfig(s.baseURL(r), cfg))
	return nil
}

func (s *Server) fetchAccountConfig(w http.ResponseWriter, r *http.Request) error {
	cfg, err := s.app.FetchAccountConfig(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.accountConfig(s.baseURL(r), cfg))
	return nil
}

func (s *Server) updateAccountConfig(w http.ResponseWriter, r *http.Request) error {
	f, err := s.readForm(r)
	if err != nil {
		return err
	}
	chat, err1 := f.str("DefaultChatServiceSid")
	msg, err2 := f.str("DefaultMessagingServiceSid")
	inactive, err3 := f.str("DefaultInactiveTimer")
	closed, err4 := f.str("DefaultClosedTimer")
	if err := firstErr(err1, err2, err3, err4); err != nil {
		return err
	}
	cfg, err := s.app.UpdateAccountConfig(r.Context(), core.AccountConfigUpdate{
		DefaultChatServiceSid:      chat,
		DefaultMessagingServiceSid: msg,
		DefaultInactiveTimer:       inactive,
		DefaultClosedTimer:         closed,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.accountConfig(s.baseURL(r), cfg))
	return nil
}

// webhookUpdate decodes PreWebhookUrl, PostWebhookUrl, Filters, Method and
// (account level) Target.
func webhookUpdate(f form) (core.WebhookUpdate, error) {
	method, err1 := f.str("Method")
	pre, err2 := f.str("PreWebhookUrl")
	post, err3 := f.str("PostWebhookUrl")
	target, err4 := f.str("Target")
	return core.WebhookUpdate{Method: method, Filters: f.list("Filters"), PreWebhookURL: pre,
		PostWebhookURL: post, Target: target}, firstErr(err1, err2, err3, err4)
}

func (s *Server) fetchAccountWebhooks(w http.ResponseWriter, r *http.Request) error {
	wc, err := s.app.FetchWebhookConfig(r.Context(), true, "")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.accountWebhooks(s.baseURL(r), wc))
	return nil
}

func (s *Server) updateAccountWebhooks(w http.ResponseWriter, r *http.Request) error {
	f, err := s.readForm(r)
	if err != nil {
		return err
	}
	in, err := webhookUpdate(f)
	if err != nil {
		return err
	}
	wc, err := s.app.UpdateWebhookConfig(r.Context(), true, "", in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.accountWebhooks(s.baseURL(r), wc))
	return nil
}

func (s *Server) fetchServiceWebhooks(w http.ResponseWriter, r *http.Request) error {
	svc := r.PathValue("ChatServiceSid")
	wc, err := s.app.FetchWebhookConfig(r.Context(), false, svc)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.serviceWebhooks(s.baseURL(r), svc, wc))
	return nil
}

func (s *Server) updateServiceWebhooks(w http.ResponseWriter, r *http.Request) error {
	f, err := s.readForm(r)
	if err != nil {
		return err
	}
	in, err := webhookUpdate(f)
	if err != nil {
		return err
	}
	svc := r.PathValue("ChatServiceSid")
	wc, err := s.app.UpdateWebhookConfig(r.Context(), false, svc, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.serviceWebhooks(s.baseURL(r), svc, wc))
	return nil
}

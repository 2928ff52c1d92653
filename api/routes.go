package api

import (
	"net/http"
	"strings"

	"github.com/parleyhq/parley"
)

// routes is the whole HTTP surface in one place. Resources that live in a
// Conversation Service are mounted twice: under the shortened /v1/X (the
// default service) and under /v1/Services/{ChatServiceSid}/X, with the same
// handlers; scope() tells them apart.
func (s *Server) routes() {
	for _, prefix := range []string{"/v1", "/v1/Services/{ChatServiceSid}"} {
		s.resource(prefix+"/Users", methods{"GET": s.listUsers, "POST": s.createUser})
		s.resource(prefix+"/Users/{Sid}", methods{"GET": s.fetchUser, "POST": s.updateUser, "DELETE": s.deleteUser})
		s.resource(prefix+"/Roles", methods{"GET": s.listRoles, "POST": s.createRole})
		s.resource(prefix+"/Roles/{Sid}", methods{"GET": s.fetchRole, "POST": s.updateRole, "DELETE": s.deleteRole})
	}
	s.resource("/v1/Services", methods{"GET": s.listServices, "POST": s.createService})
	s.resource("/v1/Services/{Sid}", methods{"GET": s.fetchService, "DELETE": s.deleteService})
	s.resource("/v1/Services/{ChatServiceSid}/Configuration",
		methods{"GET": s.fetchServiceConfig, "POST": s.updateServiceConfig})
	s.resource("/v1/Services/{ChatServiceSid}/Configuration/Webhooks",
		methods{"GET": s.fetchServiceWebhooks, "POST": s.updateServiceWebhooks})
	s.resource("/v1/Configuration", methods{"GET": s.fetchAccountConfig, "POST": s.updateAccountConfig})
	s.resource("/v1/Configuration/Webhooks", methods{"GET": s.fetchAccountWebhooks, "POST": s.updateAccountWebhooks})

	// parley's own extensions live under /parley, out of Twilio's way.
	s.resource("/parley/v1/WebhookDeliveries", methods{"GET": s.listDeliveries})

	// Everything else is Twilio's 404, with the JSON body.
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, parley.NotFound())
	})
}

type methods map[string]handlerFunc

// resource mounts one handler per method on path, plus a method-less
// pattern that answers every other method with Twilio's 405 (ServeMux's own
// 405 would be plain text).
func (s *Server) resource(path string, m methods) {
	var allow []string
	for _, method := range []string{"GET", "POST", "DELETE"} {
		if fn, ok := m[method]; ok {
			s.mux.Handle(method+" "+path, s.wrap(fn))
			allow = append(allow, method)
		}
	}
	s.mux.Handle(path, s.methodNotAllowed(strings.Join(allow, ", ")))
}

package webhook

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkPostLoopback measures signed posts to a loopback server over reused
// connections, the client's own overhead without network latency.
func BenchmarkPostLoopback(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	c := New(Config{Policy: insecure})
	body := []byte(`{"taskId":"7d1c0a56-2f5e-4a8e-9a53-0c8b1f0e6a11","event":"InQueue","sequence":3}`)
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	url := srv.URL + "/workflows/1/triggers/manual/run?sig=x"
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if a := c.Post(context.Background(), url, "msg_1", body, secret); a.Status != http.StatusAccepted {
				b.Errorf("got %+v, want Status 202", a)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
}

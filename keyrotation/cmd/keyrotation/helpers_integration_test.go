//go:build integration

package main

import "net/http"

func newDelete(url string) (*http.Request, error) {
	return http.NewRequest(http.MethodDelete, url, nil)
}

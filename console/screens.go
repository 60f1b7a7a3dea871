package console

import (
	"embed"
	"net/http"
)

//go:embed assets
var assets embed.FS

func assetHandler() http.Handler { return http.FileServerFS(assets) }

func (c *Console) screenRoutes(mux *http.ServeMux) {}

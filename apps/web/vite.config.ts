import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

// `npm run dev -w @vigil/web` proxies the API to a running server (VIGIL_API, default the `npm start` URL).
const api = process.env.VIGIL_API ?? "http://127.0.0.1:8787";

export default defineConfig({
  plugins: [preact({ prerender: { enabled: false } })],
  build: { target: "es2022", assetsInlineLimit: 0 },
  server: { proxy: { "/api": { target: api, changeOrigin: false } } },
});

// A form that takes a place (a merchant's application, the store): "use where I am" fills the
// point from the browser; "find this address" asks the platform (AMap's geocoding, /places/find/)
// and fills the point with what it found, saying what that is.
(() => {
  const lat = document.getElementById("lat"), lng = document.getElementById("lng");
  const said = document.getElementById("place-found");
  const put = (a, b) => { lat.value = Number(a).toFixed(6); lng.value = Number(b).toFixed(6); };
  document.getElementById("here")?.addEventListener("click", () => {
    navigator.geolocation?.getCurrentPosition((p) => put(p.coords.latitude, p.coords.longitude));
  });
  document.getElementById("find")?.addEventListener("click", async (event) => {
    const address = document.getElementById(event.target.dataset.address).value;
    said.textContent = "…";
    try {
      const answer = await fetch(`/places/find/?address=${encodeURIComponent(address)}`, {
        headers: {Accept: "application/json"}, credentials: "same-origin",
      });
      const place = await answer.json();
      if (!answer.ok) { said.textContent = place.error; said.className = "field-error"; return; }
      put(place.lat, place.lng);
      said.textContent = said.dataset.found.replace("%(place)s", place.formatted);
      said.className = "muted";
    } catch (e) {
      said.textContent = said.dataset.failed; said.className = "field-error";
    }
  });
})();

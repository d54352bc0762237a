// A placeholder for the console app (issue #22): `npm run build` in console/ replaces it.
document.getElementById("app").dataset.ready = "placeholder";

#include "web/assets.hpp"

namespace podcd::web {
namespace {

constexpr std::string_view kCss =
    R"css(:root{--bg:#f6f7f9;--fg:#1d2330;--muted:#5d6676;--card:#fff;--line:#dde1e7;
--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;--info:#0969da;--off:#6e7781}
@media (prefers-color-scheme:dark){:root{--bg:#0f1218;--fg:#e6e9ef;--muted:#9aa3b2;--card:#171b23;--line:#2a303b;
--ok:#3fb950;--warn:#d29922;--bad:#f85149;--info:#58a6ff;--off:#8b949e}}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
background:var(--bg);color:var(--fg)}a{color:var(--info);text-decoration:none}a:hover{text-decoration:underline}
header{display:flex;flex-wrap:wrap;gap:.5rem 1.25rem;align-items:center;padding:.6rem 1rem;background:var(--card);
border-bottom:1px solid var(--line)}.brand{font-weight:700;font-size:1.1rem;color:var(--fg)}
nav{display:flex;gap:1rem;flex-wrap:wrap}.who{margin-left:auto;color:var(--muted)}
.role{font-size:.75rem;border:1px solid var(--line);border-radius:4px;padding:0 .3rem}
main{padding:1rem;max-width:1200px;margin:0 auto}h1{font-size:1.35rem;margin:.2rem 0 1rem}
.summary{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;color:var(--muted);margin-bottom:1rem}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin:0 0 1rem}form.inline{display:inline}
button{font:inherit;padding:.35rem .8rem;border-radius:6px;border:1px solid var(--line);background:var(--card);
color:var(--fg);cursor:pointer}button.action{border-color:var(--info);color:var(--info)}
button.danger{border-color:var(--bad);color:var(--bad)}button.logout{margin-left:.5rem}
table{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--line);border-radius:8px}
th,td{text-align:left;padding:.5rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;color:var(--muted)}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88em}
b.ok,b.warn,b.bad,b.off{display:inline-block;font-weight:600;font-size:.82rem;padding:0 .45rem;border-radius:999px;
border:1px solid currentColor}.ok{color:var(--ok)}.warn{color:var(--warn)}.bad{color:var(--bad)}.off{color:var(--off)}
td i,.why{color:var(--muted);font-style:normal}td p{margin:0;white-space:nowrap}td code{font-size:.85em}.muted{color:var(--muted)}
.banner{padding:.6rem .8rem;border-radius:6px;margin:0 0 1rem;border:1px solid var(--bad);color:var(--bad)}
.login{max-width:22rem;margin:3rem auto;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1.2rem}
.login label{display:block;margin:.6rem 0 .2rem}.login input{width:100%;font:inherit;padding:.4rem;border-radius:6px;
border:1px solid var(--line);background:var(--bg);color:var(--fg)}.login button{margin-top:1rem;width:100%}
pre.log{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.8rem;overflow:auto;max-height:70vh}
h2{font-size:1.1rem;margin:1.4rem 0 .6rem}td p.why,td .why{white-space:normal}
.banner b{text-transform:uppercase;letter-spacing:.03em}.banner code{color:inherit}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;margin:0 0 1rem}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;overflow-wrap:anywhere}
#deployment-state{font-size:.95rem;font-weight:600;border:1px solid currentColor;border-radius:999px;padding:0 .5rem}
form.filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:end;margin:0 0 1rem}
form.filters input,form.filters select{font:inherit;padding:.3rem;border-radius:6px;border:1px solid var(--line);
background:var(--card);color:var(--fg)}table.diff td code{overflow-wrap:anywhere;white-space:pre-wrap}
.table{overflow-x:auto}pre.log{white-space:pre-wrap;overflow-wrap:anywhere}
@media (max-width:700px){.w,table.stacks th:nth-child(3),table.stacks td:nth-child(3),
table.stacks th:nth-child(5),table.stacks td:nth-child(5){display:none}main{padding:.5rem}
th,td{padding:.4rem}td code{overflow-wrap:anywhere}dl.facts{grid-template-columns:1fr}table.diff,table.deployments{display:block;overflow-x:auto}}
)css";

// Live parts without inline script: pages that ask for it (data-refresh on <main>'s first
// child) reload while nobody types; relative times stay fresh. The front page and /deployments
// follow GET /events instead: a new deployment appears, a running one changes state, in place.
constexpr std::string_view kJs = R"js("use strict";
(function(){
  var script=document.currentScript,base=script?script.src.replace(/\/static\/podcd\.js.*$/,""):"";
  var TONES={ok:"in-sync succeeded updated unchanged created recreated healthy running accepted success ok",
    warn:"changed drifted queued starting pinned create recreate remove",
    bad:"failed invalid refused rolled-back unhealthy exited created-only rejected denied failure"};
  function tone(w){for(var t in TONES)if((" "+TONES[t]+" ").indexOf(" "+w+" ")>=0)return t;return "off";}
  function esc(s){return String(s).replace(/[&<>"]/g,function(c){return {"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;"}[c];});}
  function badge(w){w=w||"unknown";return "<b class="+tone(w)+">"+esc(w)+"</b>";}
  function when(iso){return iso?"<time datetime=\""+esc(iso.replace(/\.\d+Z$/,"Z"))+"\">just now</time>":"never";}
  function link(d){return "<a href=\""+esc(base+"/deployments/"+d.deployment)+"\">"+when(d.queued_at)+"</a>";}
  function rowOf(tbody,path){var a=tbody.querySelector("a[href$=\""+path+"\"]");return a?a.closest("tr"):null;}
  // A row of table.deployments (web/deployments_page.cpp), from an event's data.
  function deploymentRow(tbody,d){
    var h="<td>"+link(d)+"<td>"+badge(d.state)+(d.reason?"<p class=why>"+esc(d.reason):"")+"<td>"+
      esc(d.trigger.kind)+"<td>"+esc(d.trigger.actor||"unknown")+"<td><code>"+esc(d.commit.substring(0,12))+"</code><td>";
    d.stacks.forEach(function(s){h+="<p>"+esc(s.name)+" "+badge(s.outcome);});
    var tr=rowOf(tbody,"/deployments/"+d.deployment);
    if(!tr){if(location.search)return;  // a filtered list: what is new may not belong in it
      tr=document.createElement("tr");tbody.insertBefore(tr,tbody.firstChild);
      var none=tbody.querySelector("td[colspan]");if(none)none.parentNode.remove();}
    tr.innerHTML=h;tr.setAttribute("data-state",d.state);
  }
  // The front page's "Last deployment" cell of each stack the event names.
  function stackRows(tbody,d){
    var outcomes={};d.stacks.forEach(function(s){outcomes[s.name]=s.outcome;});
    if(d.stack)outcomes[d.stack.name]=d.stack.outcome;
    var names=Object.keys(outcomes);d.trigger.stacks.forEach(function(n){if(!(n in outcomes))names.push(n);});
    names.forEach(function(n){var tr=rowOf(tbody,"/stacks/"+encodeURIComponent(n));if(!tr||!tr.cells[3])return;
      var o=outcomes[n],w=o||d.state;
      tr.cells[3].innerHTML=link(d)+(tone(w)!=="ok"||!o?" "+badge(w):"");});
  }
  function live(){
    var deps=document.querySelector("table.deployments tbody"),stacks=document.querySelector("table.stacks tbody");
    if(!(deps||stacks)||!window.EventSource)return false;
    var es=new EventSource(base+"/events");
    ["queued","started","stack","finished"].forEach(function(kind){es.addEventListener(kind,function(e){
      var d;try{d=JSON.parse(e.data);}catch(x){return;}
      if(deps)deploymentRow(deps,d);if(stacks)stackRows(stacks,d);tick();});});
    es.addEventListener("reset",function(){location.reload();});  // events were missed
    es.onerror=function(){if(es.readyState===2)setTimeout(function(){location.reload();},5000);};
    return true;
  }
  function ago(ms){var s=Math.floor(Math.abs(Date.now()-ms)/1000);var f=Date.now()<ms;var a;
    if(s<5)return "just now";if(s<60)a=s+" s";else if(s<3600)a=Math.floor(s/60)+" min";
    else if(s<86400)a=Math.floor(s/3600)+" h";else a=Math.floor(s/86400)+" d";return f?"in "+a:a+" ago";}
  function tick(){document.querySelectorAll("time[datetime]").forEach(function(t){
    var ms=Date.parse(t.getAttribute("datetime"));if(isNaN(ms))return;t.textContent=ago(ms);
    if(!t.title)t.title=new Date(ms).toISOString().replace("T"," ").replace(/\.\d+Z$/," UTC");});}
  // A running deployment's log: each message one line, its id the line's index; lines the page
  // already shows (data-lines) are skipped, so a replay from the first line or a resumption after
  // Last-Event-ID both append only what is new. `end` reloads the page with the final record.
  function follow(log){
    var es=new EventSource(log.getAttribute("data-events"));
    var shown=parseInt(log.getAttribute("data-lines"),10)||0;
    es.onmessage=function(e){var i=parseInt(e.lastEventId,10);if(!isNaN(i)){if(i<shown)return;shown=i+1;}
      var atEnd=log.scrollTop+log.clientHeight>=log.scrollHeight-4;
      log.appendChild(document.createTextNode(e.data+"\n"));if(atEnd)log.scrollTop=log.scrollHeight;};
    es.addEventListener("end",function(e){es.close();
      var st=document.getElementById("deployment-state");if(st)st.textContent=e.data;location.reload();});
    es.onerror=function(){if(es.readyState===2)setTimeout(function(){location.reload();},5000);};
  }
  document.addEventListener("DOMContentLoaded",function(){
    tick();setInterval(tick,10000);
    var log=document.querySelector("pre#log[data-events]");
    if(log&&window.EventSource){follow(log);return;}
    if(live())return;
    var r=document.querySelector("[data-refresh]");
    if(r){var secs=parseInt(r.getAttribute("data-refresh"),10)||15;
      setInterval(function(){var a=document.activeElement;
        if(!a||(a.tagName!=="INPUT"&&a.tagName!=="TEXTAREA"))location.reload();},secs*1000);}
  });
})();
)js";

constexpr Asset kAssets[] = {
    {"podcd.css", "text/css; charset=utf-8", kCss},
    {"podcd.js", "text/javascript; charset=utf-8", kJs},
};

}  // namespace

const Asset* FindAsset(std::string_view path) {
  for (const auto& a : kAssets) {
    if (a.path == path) return &a;
  }
  return nullptr;
}

}  // namespace podcd::web
